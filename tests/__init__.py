from . import test_backend_secrets
from . import test_concurrent_redelivery
from . import test_mapping_governance
from . import test_outbound_delivery
from . import test_ownership_and_ordering
from . import test_processing_engine
from . import test_supplier_flow
from . import test_webhook_contract
