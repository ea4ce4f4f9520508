//! Start-up in steps. The map page's first frame is what `index.html`'s app shell already shows;
//! what can wait for it (the Leaflet map, its markers, what lies below the fold on a phone, the
//! rest of a long list) is done in tasks of its own after it, so no single task keeps a cheap
//! phone from answering a tap for long (Lighthouse's "total blocking time").

use crate::browser::after_next_paint;
use leptos::prelude::*;

/// Its children, drawn one frame after the frame that shows the rest of the page: for parts of
/// a page that are below the fold on a phone, and come last in the document, so that their
/// coming moves nothing above them. One frame later, not one task: what the rest of the page
/// does after its first frame (the Leaflet map reads its size) then finds its layout done,
/// instead of laying these children out in its own task.
#[component]
pub fn AfterFirstPaint(children: ChildrenFn) -> impl IntoView {
    let ready = RwSignal::new(false);
    after_next_paint(move || {
        after_next_paint(move || {
            // The page may be gone by then.
            let _ = ready.try_set(true);
        });
    });
    view! { <Show when=move || ready.get()>{children()}</Show> }
}
