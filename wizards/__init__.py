from . import fih_mapping_try_wizard
from . import fih_message_action_wizard
from . import fih_bi_period_wizard
