//! No gateway: what an install has until card payments are set up. Nothing
//! can be created or read; the use cases answer
//! [`crate::Error::CardPaymentsOff`] before they get here.

use futures::future::BoxFuture;
use kabinet_gateway::{Gateway, GatewayError, GatewayPayment, GatewayRefund, NewPayment, NewRefund};

/// The gateway name of an install without card payments.
pub(super) const NAME: &str = "none";

/// The stand-in for a gateway nobody configured.
pub struct Disabled;

fn off() -> GatewayError {
    GatewayError::Unavailable("card payments are not set up".into())
}

impl Gateway for Disabled {
    fn name(&self) -> &'static str {
        NAME
    }

    fn create<'a>(&'a self, _: &'a NewPayment) -> BoxFuture<'a, Result<GatewayPayment, GatewayError>> {
        Box::pin(async { Err(off()) })
    }

    fn get<'a>(&'a self, _: &'a str) -> BoxFuture<'a, Result<GatewayPayment, GatewayError>> {
        Box::pin(async { Err(off()) })
    }

    fn refund<'a>(&'a self, _: &'a NewRefund) -> BoxFuture<'a, Result<GatewayRefund, GatewayError>> {
        Box::pin(async { Err(off()) })
    }

    fn get_refund<'a>(&'a self, _: &'a str) -> BoxFuture<'a, Result<GatewayRefund, GatewayError>> {
        Box::pin(async { Err(off()) })
    }
}
