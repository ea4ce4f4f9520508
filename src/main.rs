//! Entry point of the residents' app: installs the panic hook and mounts
//! [`caremap::ResidentsApp`] on `<body>` in place of `index.html`'s app shell.

fn main() {
    console_error_panic_hook::set_once();
    // In a task of its own: `main` runs in the task that instantiates the wasm, and the two
    // together made the longest task of the start-up on a cheap phone.
    leptos::prelude::set_timeout(caremap::mount_residents, std::time::Duration::ZERO);
}
