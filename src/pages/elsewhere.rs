//! The staff app's fallback route: a path it does not serve (a facility's page, the map) belongs
//! to the residents' app, which a full navigation to the same URL loads (the server, and the
//! service worker offline, answer it with the residents' shell).

use leptos::prelude::*;

#[component]
pub fn ElsewhereInTheSite() -> impl IntoView {
    Effect::new(move |_| {
        let location = window().location();
        if let Ok(href) = location.href() {
            if let Err(err) = location.replace(&href) {
                leptos::logging::error!("cannot leave the staff app for {href}: {err:?}");
            }
        }
    });
}
