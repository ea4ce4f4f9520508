//! Entry point of the staff app (the doctor's page, `/report`): installs the panic hook and
//! mounts [`caremap::StaffApp`] on `<body>` in place of `staff.html`'s app shell.

fn main() {
    console_error_panic_hook::set_once();
    leptos::prelude::set_timeout(caremap::mount_staff, std::time::Duration::ZERO);
}
