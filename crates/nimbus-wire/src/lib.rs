//! The wire layer: the edge that routes each request to its service, SigV4
//! verification, and the protocol codecs driven by AWS's service models.

pub mod edge;
pub mod json;
pub mod model;
pub mod protocol;
pub mod query;
pub mod rest_json;
pub mod sigv4;
pub mod xml;

pub use edge::{AuthConfig, Edge, ServiceHandler};
pub use model::ServiceModel;
pub use protocol::{Protocol, WireSpec};
