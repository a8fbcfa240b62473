DROP TABLE scim_page_positions;
