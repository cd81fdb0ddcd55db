//! Reads the served OpenAPI JSON into the page's model.

use serde_json::Value;

use super::model::{ApiReference, Operation, Parameter, TagGroup};

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

fn text(value: &Value) -> String {
    value.as_str().unwrap_or_default().to_string()
}

pub fn reference(document: &str) -> Option<ApiReference> {
    let document: Value = serde_json::from_str(document).ok()?;
    let mut groups: Vec<TagGroup> = document["tags"]
        .as_array()?
        .iter()
        .map(|tag| TagGroup {
            tag: text(&tag["name"]),
            description: text(&tag["description"]),
            operations: Vec::new(),
        })
        .collect();
    for (path, item) in document["paths"].as_object()? {
        for method in METHODS {
            let Some(operation) = item.get(method) else {
                continue;
            };
            let tag = operation["tags"][0].as_str().unwrap_or("other");
            let index = match groups.iter().position(|g| g.tag == tag) {
                Some(index) => index,
                None => {
                    groups.push(TagGroup {
                        tag: tag.to_string(),
                        description: String::new(),
                        operations: Vec::new(),
                    });
                    groups.len() - 1
                }
            };
            groups[index]
                .operations
                .push(read_operation(path, method, operation));
        }
    }
    groups.retain(|g| !g.operations.is_empty());
    Some(ApiReference {
        title: text(&document["info"]["title"]),
        version: text(&document["info"]["version"]),
        description: text(&document["info"]["description"]),
        groups,
    })
}

fn read_operation(path: &str, method: &str, operation: &Value) -> Operation {
    let parameters = operation["parameters"]
        .as_array()
        .map(|list| {
            list.iter()
                .map(|p| Parameter {
                    name: text(&p["name"]),
                    location: text(&p["in"]),
                    required: p["required"].as_bool().unwrap_or(false),
                    description: text(&p["description"]),
                })
                .collect()
        })
        .unwrap_or_default();
    let body = operation["requestBody"]["content"]
        .as_object()
        .map(|content| content.keys().cloned().collect())
        .unwrap_or_default();
    let responses = operation["responses"]
        .as_object()
        .map(|responses| {
            responses
                .iter()
                .map(|(status, r)| (status.clone(), text(&r["description"])))
                .collect()
        })
        .unwrap_or_default();
    // `security: [{}]` is utoipa's spelling of "no authentication".
    let open = operation["security"].as_array().is_some_and(|s| {
        s.iter()
            .all(|r| r.as_object().is_some_and(|o| o.is_empty()))
    });
    Operation {
        method: method.to_uppercase(),
        path: path.to_string(),
        summary: text(&operation["summary"]),
        description: text(&operation["description"]),
        open,
        parameters,
        body,
        responses,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operations_are_grouped_by_their_tag_with_parameters_and_responses() {
        let document = serde_json::json!({
            "info": {"title": "T", "version": "1", "description": "D"},
            "tags": [{"name": "findings", "description": "The queue"}, {"name": "unused"}],
            "paths": {
                "/api/v1/findings/{id}": {"get": {
                    "tags": ["findings"], "summary": "One finding",
                    "parameters": [{"name": "id", "in": "path", "required": true, "description": "The id"}],
                    "responses": {"200": {"description": "The finding"}, "404": {"description": "None"}}
                }},
                "/api/v1/openapi.json": {"get": {
                    "tags": ["meta"], "security": [{}], "responses": {"200": {"description": "Doc"}}
                }}
            }
        });
        let reference = reference(&document.to_string()).unwrap();
        let tags: Vec<&str> = reference.groups.iter().map(|g| g.tag.as_str()).collect();
        assert_eq!(
            tags,
            ["findings", "meta"],
            "empty tags are dropped, unknown ones added"
        );
        let one = &reference.groups[0].operations[0];
        assert_eq!((one.method.as_str(), one.open), ("GET", false));
        assert_eq!(one.parameters[0].location, "path");
        assert_eq!(
            one.responses,
            [
                ("200".into(), "The finding".into()),
                ("404".into(), "None".into())
            ]
        );
        assert!(reference.groups[1].operations[0].open);
    }
}
