# bases first: mixins and abstract contracts the models below build on
from . import fih_own_cron_mixin
from . import fih_record_reference_mixin
from . import fih_secret_mixin
from . import fih_company_locked_mixin
from . import fih_synced_mixin
from . import fih_audit_log
from . import fih_governed_mixin
from . import fih_progress_mixin

# configuration
from . import fih_backend
from . import fih_backend_credentials
from . import fih_backend_alerts
from . import fih_backend_navigation
from . import fih_backend_dashboard
from . import fih_backend_secret_strength
from . import fih_binding
from . import fih_value_map
from . import fih_value_map_entry
from . import fih_sor_rule
from . import fih_payment_difference_policy
from . import fih_mapping
from . import fih_mapping_rule

# intake -> exchange log -> processing
from . import fih_intake
from . import fih_webhook_intake
from . import fih_ubl_intake
from . import fih_cxml_intake
from . import fih_bi_acknowledgement_intake
from . import fih_pull
from . import fih_rate_counter
from . import fih_auth_throttle
from . import ir_http_intake
from . import fih_masked_texts_mixin
from . import fih_message
from . import fih_message_display
from . import fih_message_resolution
from . import fih_message_queue
from . import fih_message_processing
from . import fih_message_link
from . import fih_message_stat
from . import fih_message_archive
from . import fih_backend_retention
from . import queue_job
from . import fih_exception_group
from . import fih_operator_action
from . import fih_bulk_operation

# flows: one handler per event type
from . import fih_handler
from . import fih_procure_to_pay_handler
from . import fih_procure_to_pay_units
from . import fih_supplier_handler
from . import fih_supplier_lookups
from . import fih_purchase_order_handler
from . import fih_goods_receipt_handler
from . import fih_ship_notice_handler
from . import fih_order_confirmation_handler
from . import fih_invoice_handler
from . import fih_invoice_duplicates
from . import fih_invoice_checks
from . import fih_invoice_taxes
from . import fih_invoice_posting
from . import fih_invoice_charges
from . import fih_supplier_identifiers
from . import fih_payment_handler
from . import fih_payment_registration

# business change -> outbox -> delivery
from . import fih_subscription
from . import fih_outbox
from . import fih_canonical_export
from . import fih_http_client
from . import fih_delivery
from . import fih_delivery_breaker

# publications to reporting platforms
from . import fih_bi_deletion
from . import fih_bi_publication
from . import fih_bi_publication_attention
from . import fih_bi_load
from . import fih_bi_load_http
from . import fih_bi_load_reconciliation
from . import fih_bi_load_recovery
from . import fih_bi_load_chunk
from . import fih_bi_load_progress
from . import fih_bi_load_replica
from . import fih_bi_load_copy
from . import fih_bi_sink_postgres
from . import fih_bi_sink_parquet

# operations
from . import fih_health
from . import fih_metrics

# how the hub's records are named
from . import fih_display_names

# Odoo models the hub extends
from . import account_analytic_account
from . import account_move
from . import account_move_line
from . import account_move_line_stated
from . import account_tax
from . import account_payment
from . import purchase_order
from . import purchase_order_line
from . import res_company
from . import res_config_settings
from . import res_partner
from . import res_partner_bank
from . import res_groups
from . import res_users
from . import ir_model_access
from . import stock_picking
from . import fih_read_replica
