//! Diesel's view of the tables in `migrations/{sqlite,postgres}`. Written by hand and
//! kept true by the schema tests, which compare it with what both migration trees build.

diesel::table! {
    tenants (id) {
        id -> Text,
        workspace -> Text,
        name -> Text,
        created_at -> Timestamp,
        directory_version -> BigInt,
    }
}

diesel::table! {
    okta_integrations (tenant_id) {
        tenant_id -> Text,
        activated_at -> Nullable<Timestamp>,
        activated_by -> Nullable<Text>,
        connected_at -> Nullable<Timestamp>,
        connected_by -> Nullable<Text>,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    employees (id) {
        id -> Text,
        tenant_id -> Text,
        email -> Text,
        email_key -> Text,
        external_id -> Nullable<Text>,
        given_name -> Nullable<Text>,
        family_name -> Nullable<Text>,
        display_name -> Nullable<Text>,
        phone -> Nullable<Text>,
        title -> Nullable<Text>,
        department -> Nullable<Text>,
        employee_number -> Nullable<Text>,
        manager_id -> Nullable<Text>,
        active -> Bool,
        role -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> BigInt,
    }
}

diesel::table! {
    employee_identities (tenant_id, issuer, subject) {
        tenant_id -> Text,
        issuer -> Text,
        subject -> Text,
        employee_id -> Text,
        created_at -> Timestamp,
        last_sign_in_at -> Timestamp,
    }
}

diesel::table! {
    scim_tokens (id) {
        id -> Text,
        tenant_id -> Text,
        token_hash -> Text,
        label -> Text,
        hint -> Text,
        created_at -> Timestamp,
        created_by -> Text,
        last_used_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
        replaced_by -> Nullable<Text>,
        presented_as -> Text,
    }
}

diesel::table! {
    okta_sso_configs (tenant_id) {
        tenant_id -> Text,
        org_url -> Text,
        client_id -> Text,
        client_secret_ciphertext -> Binary,
        client_secret_key_id -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        updated_by -> Text,
        custom_domain_approved_by -> Nullable<Text>,
    }
}

diesel::table! {
    login_transactions (state_hash) {
        state_hash -> Text,
        tenant_id -> Text,
        browser_binding_hash -> Text,
        nonce -> Text,
        pkce_verifier -> Text,
        login_hint -> Nullable<Text>,
        return_to -> Nullable<Text>,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        consumed_at -> Nullable<Timestamp>,
        handoff_binding_hash -> Nullable<Text>,
    }
}

diesel::table! {
    sessions (token_hash) {
        token_hash -> Text,
        tenant_id -> Text,
        employee_id -> Text,
        auth_method -> Text,
        csrf_token -> Text,
        created_at -> Timestamp,
        last_seen_at -> Timestamp,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    one_time_codes (code_hash) {
        code_hash -> Text,
        purpose -> Text,
        tenant_id -> Text,
        employee_id -> Text,
        return_to -> Nullable<Text>,
        created_by -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        consumed_at -> Nullable<Timestamp>,
        browser_binding_hash -> Nullable<Text>,
    }
}

diesel::table! {
    audit_events (id) {
        id -> Text,
        tenant_id -> Nullable<Text>,
        occurred_at -> Timestamp,
        actor -> Text,
        action -> Text,
        target -> Nullable<Text>,
        details -> Text,
    }
}

diesel::table! {
    universal_logout_tokens (issuer, token_id) {
        issuer -> Text,
        token_id -> Text,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    okta_service_apps (tenant_id) {
        tenant_id -> Text,
        client_id -> Nullable<Text>,
        key_id -> Text,
        private_key_ciphertext -> Binary,
        private_key_key_id -> Text,
        public_jwk -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        updated_by -> Text,
    }
}

diesel::table! {
    okta_revocations (id) {
        id -> Text,
        tenant_id -> Text,
        employee_id -> Text,
        email -> Text,
        issuer -> Text,
        okta_user_id -> Text,
        status -> Text,
        attempts -> BigInt,
        next_attempt_at -> Timestamp,
        lease_until -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
        created_at -> Timestamp,
        finished_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(okta_integrations -> tenants (tenant_id));
diesel::joinable!(employees -> tenants (tenant_id));
diesel::table! {
    departments (tenant_id, name) {
        tenant_id -> Text,
        name -> Text,
        members -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> BigInt,
    }
}

diesel::table! {
    scim_page_positions (tenant_id, slot) {
        tenant_id -> Text,
        slot -> BigInt,
        walk -> Text,
        start_index -> BigInt,
        after_id -> Text,
        expires_at -> Timestamp,
    }
}

diesel::joinable!(employee_identities -> employees (employee_id));
diesel::joinable!(scim_tokens -> tenants (tenant_id));
diesel::joinable!(okta_sso_configs -> tenants (tenant_id));
diesel::joinable!(login_transactions -> tenants (tenant_id));
diesel::joinable!(sessions -> employees (employee_id));
diesel::joinable!(one_time_codes -> employees (employee_id));
diesel::joinable!(audit_events -> tenants (tenant_id));

diesel::joinable!(departments -> tenants (tenant_id));

diesel::allow_tables_to_appear_in_same_query!(
    departments,
    scim_page_positions,
    tenants,
    okta_integrations,
    employees,
    employee_identities,
    scim_tokens,
    okta_sso_configs,
    login_transactions,
    sessions,
    one_time_codes,
    audit_events,
    universal_logout_tokens,
    okta_service_apps,
    okta_revocations,
);
