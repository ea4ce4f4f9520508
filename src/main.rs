//! Entry point of the PWA: installs the panic hook and mounts [`caremap::App`] on `<body>` in
//! place of `index.html`'s app shell.

fn main() {
    console_error_panic_hook::set_once();
    // In a task of its own: `main` runs in the task that instantiates the wasm, and the two
    // together made the longest task of the start-up on a cheap phone.
    leptos::prelude::set_timeout(caremap::mount, std::time::Duration::ZERO);
}
