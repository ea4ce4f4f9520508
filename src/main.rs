//! Entry point of the PWA: installs the panic hook and mounts [`caremap::App`] on `<body>` in
//! place of `index.html`'s app shell.

fn main() {
    console_error_panic_hook::set_once();
    caremap::mount();
}
