from . import fih_mapping_try_wizard
from . import fih_message_action_wizard
from . import fih_bi_period_wizard
from . import fih_mapping_use_wizard
from . import fih_secret_reveal_wizard
