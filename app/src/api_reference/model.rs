use serde::{Deserialize, Serialize};

/// The parts of the OpenAPI document the page shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiReference {
    pub title: String,
    pub version: String,
    pub description: String,
    pub groups: Vec<TagGroup>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TagGroup {
    pub tag: String,
    pub description: String,
    pub operations: Vec<Operation>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Operation {
    pub method: String,
    pub path: String,
    pub summary: String,
    pub description: String,
    /// Public (no token or session needed).
    pub open: bool,
    pub parameters: Vec<Parameter>,
    /// Media types the body may be sent as; empty when there is no body.
    pub body: Vec<String>,
    /// Status code and what it means, in code order.
    pub responses: Vec<(String, String)>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Parameter {
    pub name: String,
    /// path or query.
    pub location: String,
    pub required: bool,
    pub description: String,
}
