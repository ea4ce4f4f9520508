//! The few things the app asks of the browser itself, in one place: whether it believes it is
//! online, `localStorage`, a yes/no question, and yielding to it between slices of work.
//!
//! Every reader of `localStorage` treats a refusal (private browsing, a full quota) as "nothing
//! kept": what is stored there is a convenience, never the only copy of anything.

use leptos::prelude::*;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::time::Duration;

/// `navigator.onLine`, true where unknown.
pub fn online() -> bool {
    web_sys::window().is_none_or(|w| w.navigator().on_line())
}

fn local_storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

/// The text kept under `key` in `localStorage`, if any.
pub fn stored(key: &str) -> Option<String> {
    local_storage()?.get_item(key).ok().flatten()
}

/// Keeps `value` under `key` in `localStorage`; whether the browser took it.
pub fn store(key: &str, value: &str) -> bool {
    local_storage().is_some_and(|s| s.set_item(key, value).is_ok())
}

/// Removes `key` from `localStorage`.
pub fn unstore(key: &str) {
    if let Some(storage) = local_storage() {
        let _ = storage.remove_item(key);
    }
}

/// The value kept as JSON under `key`; `None` when absent or no longer readable.
pub fn stored_json<T: DeserializeOwned>(key: &str) -> Option<T> {
    serde_json::from_str(&stored(key)?).ok()
}

/// Keeps `value` as JSON under `key`; whether the browser took it.
pub fn store_json<T: Serialize>(key: &str, value: &T) -> bool {
    serde_json::to_string(value).is_ok_and(|text| store(key, &text))
}

/// Asks a yes/no question with the browser's own dialog; no dialog counts as no.
pub fn confirm(message: &str) -> bool {
    window().confirm_with_message(message).unwrap_or(false)
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[wasm_bindgen_test::wasm_bindgen_test]
    fn values_kept_as_json_come_back() {
        let key = "caremap.test.browser";
        assert!(store_json(key, &vec![1, 2, 3]));
        assert_eq!(stored_json::<Vec<u32>>(key), Some(vec![1, 2, 3]));
        // Something else under the key is not an error, just nothing kept.
        assert!(store(key, "not json"));
        assert_eq!(stored_json::<Vec<u32>>(key), None);
        unstore(key);
        assert_eq!(stored(key), None);
    }
}
