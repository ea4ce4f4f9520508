//! Start-up in steps. The map page's first frame is what `index.html`'s app shell already shows;
//! what can wait for it (the Leaflet map, its markers, what lies below the fold on a phone, the
//! rest of a long list) is done in tasks of its own after it, so no single task keeps a cheap
//! phone from answering a tap for long (Lighthouse's "total blocking time").

use leptos::prelude::*;
use std::time::Duration;

/// Runs `f` in a task of its own once the next frame has been painted (an animation frame, then
/// a zero timeout): that frame's style and layout are done by then, so what `f` reads of sizes
/// costs nothing, and what it draws is painted in the frame after.
pub fn after_next_paint(f: impl FnOnce() + 'static) {
    request_animation_frame(move || set_timeout(f, Duration::ZERO));
}

/// Resolves in a task of its own, after what the browser has queued meanwhile (a tap, a frame):
/// long work done in slices awaits it between slices. A message to itself rather than a timer:
/// browsers hold a timer set from a timer's task to at least 4 ms after a few rounds, which a
/// feed of many slices would spend idle.
pub async fn next_task() {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        let Ok(channel) = web_sys::MessageChannel::new() else {
            // No MessageChannel (cannot happen in a browser the app runs in): go on at once.
            let _ = resolve.call0(&wasm_bindgen::JsValue::UNDEFINED);
            return;
        };
        channel.port1().set_onmessage(Some(&resolve));
        if channel
            .port2()
            .post_message(&wasm_bindgen::JsValue::UNDEFINED)
            .is_err()
        {
            let _ = resolve.call0(&wasm_bindgen::JsValue::UNDEFINED);
        }
    });
    // A promise resolved by a message is never rejected.
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
}

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
