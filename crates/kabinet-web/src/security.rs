//! Security headers on every response (DOMAIN.md §Security).

use axum::http::{HeaderName, HeaderValue, header};
use tower::layer::util::Stack;
use tower_http::set_header::SetResponseHeaderLayer;

type L = SetResponseHeaderLayer<HeaderValue>;

/// Content-Security-Policy without inline scripts, no framing, no sniffing, no
/// referrer leaks.
pub(crate) fn headers() -> Stack<L, Stack<L, Stack<L, Stack<L, L>>>> {
    let set = |name: HeaderName, value: &'static str| {
        SetResponseHeaderLayer::if_not_present(name, HeaderValue::from_static(value))
    };
    Stack::new(
        set(
            header::CONTENT_SECURITY_POLICY,
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
        ),
        Stack::new(
            set(header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            Stack::new(
                set(header::REFERRER_POLICY, "same-origin"),
                Stack::new(
                    set(header::X_FRAME_OPTIONS, "DENY"),
                    set(HeaderName::from_static("cross-origin-opener-policy"), "same-origin"),
                ),
            ),
        ),
    )
}
