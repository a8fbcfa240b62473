//! Spark's schema definitions: exactly the attributes Spark serves to Okta.
//!
//! Every served attribute is `readOnly`: provisioning is import-only, Spark owns the values.
//! The core schemas also list the common attributes `id`, `externalId` (Users only) and
//! `meta` (RFC 7643 §3.1 permits listing them), so that `/Schemas` describes every attribute
//! a response can contain and filters such as `meta.lastModified gt "…"` validate.
//!
//! Attributes Spark does not serve (`userType`, `ims`, `groups`, …) are deliberately absent:
//! a filter naming them is rejected rather than silently matching nothing.

use crate::schema::{
    AttributeDef, AttributeType, ResourceSchema, Returned, SchemaDef, SchemaExtension, Uniqueness,
};
use crate::urn;

const fn string(name: &'static str, description: &'static str) -> AttributeDef {
    AttributeDef::new(name, AttributeType::String, description)
}

const ID: AttributeDef = string(
    "id",
    "Spark's unique, stable identifier for the resource. Assigned by Spark.",
)
.case_exact()
.required()
.returned(Returned::Always)
.uniqueness(Uniqueness::Server);

const META: AttributeDef = AttributeDef::complex(
    "meta",
    "Resource metadata maintained by Spark.",
    &[
        string("resourceType", "The name of the resource type, e.g. User.").case_exact(),
        AttributeDef::new(
            "created",
            AttributeType::DateTime,
            "When the resource was added to Spark.",
        ),
        AttributeDef::new(
            "lastModified",
            AttributeType::DateTime,
            "When the resource last changed in Spark.",
        ),
        AttributeDef::new(
            "location",
            AttributeType::Reference,
            "The absolute URL of the resource.",
        )
        .case_exact()
        .reference_types(&["uri"]),
        string(
            "version",
            "The weak entity tag of the resource's current version.",
        )
        .case_exact(),
    ],
);

/// The core User schema, restricted to what Spark serves (RFC 7643 §4.1).
pub static USER_SCHEMA: SchemaDef = SchemaDef {
    id: urn::USER,
    name: "User",
    description: "A Spark employee.",
    attributes: &[
        ID,
        string(
            "externalId",
            "The employee's identifier in the system Spark imported them from, if any.",
        )
        .case_exact(),
        string(
            "userName",
            "The employee's work email address; unique within the workspace.",
        )
        .required()
        .uniqueness(Uniqueness::Server),
        AttributeDef::complex(
            "name",
            "The components of the employee's name.",
            &[
                string(
                    "formatted",
                    "The full name, e.g. Barbara Jensen: given name then family name.",
                ),
                string("familyName", "The family name (last name)."),
                string("givenName", "The given name (first name)."),
            ],
        ),
        string(
            "displayName",
            "The name of the employee, suitable for display.",
        ),
        string("title", "The employee's job title."),
        AttributeDef::new(
            "active",
            AttributeType::Boolean,
            "Whether the employee is active in Spark.",
        ),
        AttributeDef::complex(
            "emails",
            "The employee's email addresses; Spark serves the work address only.",
            &[
                string("value", "The email address."),
                string("type", "The kind of address; always work.").canonical_values(&["work"]),
                AttributeDef::new(
                    "primary",
                    AttributeType::Boolean,
                    "Whether this is the primary address; always true.",
                ),
            ],
        )
        .multi_valued(),
        AttributeDef::complex(
            "phoneNumbers",
            "The employee's phone numbers; Spark serves the work number only.",
            &[
                string("value", "The phone number."),
                string("type", "The kind of number; always work.").canonical_values(&["work"]),
                AttributeDef::new(
                    "primary",
                    AttributeType::Boolean,
                    "Whether this is the primary number; always true.",
                ),
            ],
        )
        .multi_valued(),
        META,
    ],
};

/// The enterprise User extension, restricted to what Spark serves (RFC 7643 §4.3).
pub static ENTERPRISE_USER_SCHEMA: SchemaDef = SchemaDef {
    id: urn::ENTERPRISE_USER,
    name: "EnterpriseUser",
    description: "Enterprise attributes of a Spark employee.",
    attributes: &[
        string(
            "employeeNumber",
            "The employee number assigned by the organization.",
        ),
        string("department", "The name of the employee's department."),
        AttributeDef::complex(
            "manager",
            "The employee's manager.",
            &[
                string("value", "The id of the manager's User resource.").case_exact(),
                AttributeDef::new(
                    "$ref",
                    AttributeType::Reference,
                    "The URL of the manager's User resource.",
                )
                .case_exact()
                .reference_types(&["User"]),
                string("displayName", "The manager's display name."),
            ],
        ),
    ],
};

/// The core Group schema, restricted to what Spark serves: departments (RFC 7643 §4.2).
pub static GROUP_SCHEMA: SchemaDef = SchemaDef {
    id: urn::GROUP,
    name: "Group",
    description: "A Spark department.",
    attributes: &[
        ID,
        string("displayName", "The department's name.").required(),
        AttributeDef::complex(
            "members",
            "The employees in the department.",
            &[
                string("value", "The id of the member's User resource.").case_exact(),
                AttributeDef::new(
                    "$ref",
                    AttributeType::Reference,
                    "The URL of the member's User resource.",
                )
                .case_exact()
                .reference_types(&["User"]),
                string("display", "The member's display name."),
            ],
        )
        .multi_valued(),
        META,
    ],
};

/// The User resource type: core User plus the optional enterprise extension.
pub static USER_RESOURCE: ResourceSchema = ResourceSchema {
    name: "User",
    endpoint: "/Users",
    description: "Spark employees.",
    core: &USER_SCHEMA,
    extensions: &[SchemaExtension {
        schema: &ENTERPRISE_USER_SCHEMA,
        required: false,
    }],
};

/// The Group resource type: Spark departments.
pub static GROUP_RESOURCE: ResourceSchema = ResourceSchema {
    name: "Group",
    endpoint: "/Groups",
    description: "Spark departments.",
    core: &GROUP_SCHEMA,
    extensions: &[],
};

/// Every resource type Spark serves, in the order `/ResourceTypes` lists them.
pub static RESOURCE_TYPES: [&ResourceSchema; 2] = [&USER_RESOURCE, &GROUP_RESOURCE];

/// Every schema Spark serves, in the order `/Schemas` lists them.
pub static SCHEMAS: [&SchemaDef; 3] = [&USER_SCHEMA, &ENTERPRISE_USER_SCHEMA, &GROUP_SCHEMA];
