//! Entry point of the PWA: installs the panic hook and mounts [`caremap::App`] on `<body>`.

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(caremap::App);
}
