"""Raw lead tables: loading exports, the synthetic CRM, outcomes and splits, validation and guards."""
