import os
from unittest.mock import patch

from cryptography.fernet import Fernet
from psycopg2 import IntegrityError

from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import TransactionCase, tagged
from odoo.tools import mute_logger

from ..lib import standard_webhooks
from .common import BackendMixin


@tagged("post_install", "-at_install")
class TestBackendSecrets(BackendMixin, TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.backend = cls._setup_backend()

    def stored(self, column):
        self.env.flush_all()
        self.env.cr.execute(
            f"SELECT {column} FROM fih_backend WHERE id = %s",  # noqa: S608
            (self.backend.id,),
        )
        return self.env.cr.fetchone()[0]

    def test_secret_is_encrypted_at_rest_and_never_read_back(self):
        ciphertext = self.stored("webhook_secret_encrypted")
        self.assertTrue(ciphertext)
        self.assertNotIn(self.secret, ciphertext)
        self.assertNotIn(self.secret.removeprefix("whsec_"), ciphertext)
        self.assertFalse(self.backend.webhook_secret)
        self.assertTrue(self.backend.has_webhook_secret)
        self.assertEqual(self.backend._webhook_verification_secrets(), [self.secret])

    def test_api_key_and_oauth_secret_are_encrypted(self):
        self.backend.write({"api_key": "key-123", "oauth_client_secret": "cs-456"})
        self.assertNotIn("key-123", self.stored("api_key_encrypted"))
        self.assertNotIn("cs-456", self.stored("oauth_client_secret_encrypted"))
        self.assertEqual(self.backend._get_secret("api_key"), "key-123")
        self.assertEqual(self.backend._get_secret("oauth_client_secret"), "cs-456")
        self.assertFalse(self.backend.api_key)

    def test_ciphertext_is_hidden_from_non_admins(self):
        user = self.env["res.users"].create(
            {
                "name": "Integration manager",
                "login": "fih_manager_test",
                "groups_id": [
                    (
                        6,
                        0,
                        [self.env.ref("finance_integration_hub.group_fih_manager").id],
                    )
                ],
            }
        )
        backend = self.backend.with_user(user)
        self.assertTrue(backend.has_webhook_secret)
        with self.assertRaises(AccessError):
            backend.read(["webhook_secret_encrypted"])

    def test_rotation_keeps_the_previous_secret_for_the_grace_period(self):
        new_secret = standard_webhooks.generate_secret()
        self.backend.webhook_secret = new_secret
        self.assertEqual(
            self.backend._webhook_verification_secrets(), [new_secret, self.secret]
        )
        self.assertTrue(self.backend.webhook_secret_previous_valid_until)
        self.backend.action_end_secret_grace()
        self.assertEqual(self.backend._webhook_verification_secrets(), [new_secret])

    def test_generated_secret_is_shown_once_in_a_dialog(self):
        action = self.backend.action_generate_webhook_secret()
        self.assertEqual(
            (action["res_model"], action["target"]),
            ("fih.secret.reveal.wizard", "new"),
        )
        shown = action["context"]["default_secret"]
        self.assertTrue(shown.startswith("whsec_"))
        self.assertEqual(self.backend._webhook_verification_secrets()[0], shown)
        # the chatter says a secret changed, never which
        bodies = " ".join(self.backend.message_ids.mapped("body"))
        self.assertNotIn(shown, bodies)
        self.assertIn("Webhook Signing Secret was changed", bodies)

    def test_unusable_secret_is_refused(self):
        with self.assertRaises(ValidationError):
            self.backend.webhook_secret = "whsec_c2hvcnQ="

    def test_missing_master_key_is_a_clear_error(self):
        with (
            patch.dict(os.environ, {"FIH_MASTER_KEY": ""}),
            self.assertRaisesRegex(UserError, "No master key"),
        ):
            self.backend._webhook_verification_secrets()

    def test_wrong_master_key_is_a_clear_error(self):
        with (
            patch.dict(os.environ, {"FIH_MASTER_KEY": Fernet.generate_key().decode()}),
            self.assertRaisesRegex(UserError, "cannot be decrypted"),
        ):
            self.backend._webhook_verification_secrets()

    def test_each_backend_gets_its_own_job_channel(self):
        self.assertEqual(
            self.backend.channel_id.complete_name, "root.finance_hub.test-procurement"
        )
        self.backend.code = "renamed"
        self.assertEqual(
            self.backend.channel_id.complete_name, "root.finance_hub.renamed"
        )

    def test_code_must_be_url_safe_and_unique(self):
        with self.assertRaises(ValidationError):
            self.backend.copy({"code": "Not Valid!"})
        with self.assertRaises(IntegrityError), mute_logger("odoo.sql_db"):
            self.backend.copy({"code": self.backend.code})
        self.assertTrue(self.backend.copy({"code": "emea-ap_2"}))

    def test_only_managers_can_rotate_or_revoke_secrets(self):
        user = self.env["res.users"].create(
            {
                "name": "Integration user",
                "login": "fih_user_test",
                "groups_id": [
                    (6, 0, [self.env.ref("finance_integration_hub.group_fih_user").id])
                ],
            }
        )
        backend = self.backend.with_user(user)
        with self.assertRaises(AccessError):
            backend.action_generate_webhook_secret()
        with self.assertRaises(AccessError):
            backend.action_end_secret_grace()
        self.assertEqual(self.backend._webhook_verification_secrets(), [self.secret])
