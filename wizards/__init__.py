from . import fih_message_action_wizard
