"""The identity service: accounts, real-name status, enterprises, sessions, keys."""

from services.common.dependencies import Database
from services.common.entrypoints import handles, rpc
from services.common.environment import RequiredSecrets
from services.common.metrics import Instrumentation
from services.common.ops import OpsEntrypoints
from services.common.pii import PII_SECRETS
from services.common.timers import timer
from services.identity import contract
from services.identity.adapters.crypto_context import Crypto, signing_key_timer
from services.identity.adapters.oidc_context import Oidc
from services.identity.service_layer import lockout, mandates, oidc, pii_access, use_cases
from services.identity.service_layer import signing_keys as keys
from services.identity.service_layer.unit_of_work import IdentityUnitOfWork
from services.workflow import contract as workflow_contract


class IdentityService(OpsEntrypoints):
    name = "identity"

    # Outside development: no start with the public development PII key.
    secrets = RequiredSecrets(PII_SECRETS)
    uow = Database(IdentityUnitOfWork)
    crypto = Crypto()
    oidc_context = Oidc()
    instrumentation = Instrumentation()

    @rpc(request=contract.Register, response=contract.UserId)
    def register(self, request):
        return use_cases.register(self.uow, self.crypto, **request)

    @rpc(request=contract.Login, response=contract.TokenPair)
    def login(self, request):
        return use_cases.login(self.uow, self.crypto, **request)

    @rpc(request=contract.UnlockAccount, response=contract.AccountLock)
    def unlock_account(self, request):
        return lockout.unlock_account(self.uow, **request)

    @rpc(request=contract.LockedAccountsQuery, response=contract.LockedAccountPage)
    def locked_accounts(self, request):
        """The accounts locked now (the gateway loads them at start)."""
        return lockout.locked_accounts(self.uow, **request)

    @timer(interval=3600)
    def forget_idle_failed_logins(self):
        """Hourly: drop the failed-login counters no rule looks at any more."""
        lockout.forget_idle(self.uow)

    @rpc(request=contract.Refresh, response=contract.TokenPair)
    def refresh(self, request):
        return use_cases.refresh(self.uow, self.crypto, **request)

    @rpc(request=contract.SessionId)
    def logout(self, request):
        use_cases.logout(self.uow, self.crypto, **request)

    @rpc(response=contract.Jwks)
    def jwks(self):
        return use_cases.jwks(self.uow, self.crypto)

    # --- signing keys and what the gateways load ---------------------------

    @rpc(request=contract.RotateSigningKey, response=contract.KeyRotation)
    def rotate_signing_key(self, request):
        return keys.rotate_signing_key(self.uow, self.crypto, **request)

    @rpc(request=contract.ListSigningKeys, response=contract.SigningKeyPage)
    def list_signing_keys(self, request):
        return keys.list_signing_keys(self.uow, **request)

    @signing_key_timer(interval=3600)
    def keep_signing_keys(self):
        """Rotate on schedule (SIGNING_KEY_ROTATION_DAYS) and retire expired keys."""
        keys.keep_signing_keys(self.uow, self.crypto)

    @rpc(request=contract.RevokedSessionsQuery, response=contract.RevokedSessionPage)
    def revoked_sessions(self, request):
        """Sessions ended whose access tokens may still be alive (a gateway
        loads them at start)."""
        return keys.revoked_sessions(self.uow, self.crypto, **request)

    @rpc(request=contract.UserIdRequest, response=contract.Profile)
    def get_profile(self, request):
        return use_cases.get_profile(self.uow, **request)

    @rpc(request=contract.PersonFactsRequest, response=contract.PersonFacts)
    def person_facts(self, request):
        """Internal use only: a person's facts (ID number in full at level 2) for
        other services' automatic decisions and case reviews, each read of the
        number recorded; the gateway must not expose it."""
        return use_cases.person_facts(self.uow, self.crypto, **request)

    # --- the trail of ID numbers read ----------------------------------------

    @rpc(request=contract.ListPiiAccess, response=contract.PiiAccessPage)
    def list_pii_access(self, request):
        return pii_access.list_pii_access(self.uow, **request)

    @handles("workflow", "pii_accessed", payload=workflow_contract.PiiAccessed)
    def on_pii_accessed(self, event):
        pii_access.on_pii_accessed(self.uow, event)

    @rpc(request=contract.VerifyRealName, response=contract.Level)
    def verify_real_name(self, request):
        return use_cases.verify_real_name(self.uow, self.crypto, **request)

    @rpc(request=contract.RegisterEnterprise, response=contract.Enterprise)
    def register_enterprise(self, request):
        return use_cases.register_enterprise(self.uow, **request)

    @rpc(request=contract.UsccRequest, response=contract.Enterprise)
    def get_enterprise(self, request):
        return use_cases.get_enterprise(self.uow, **request)

    @rpc(request=contract.CreateStaff, response=contract.UserId)
    def create_staff(self, request):
        return use_cases.create_staff(self.uow, self.crypto, **request)

    @rpc(request=contract.Register, response=contract.UserId)
    def ensure_operator(self, request):
        return use_cases.ensure_operator(self.uow, self.crypto, **request)

    # --- members and mandates (代办制) ---------------------------------------

    @rpc(request=contract.AddMember, response=contract.Member)
    def add_enterprise_member(self, request):
        return mandates.add_member(self.uow, **request)

    @rpc(request=contract.RemoveMember)
    def remove_enterprise_member(self, request):
        mandates.remove_member(self.uow, **request)

    @rpc(request=contract.ListMembers, response=contract.MemberPage)
    def list_enterprise_members(self, request):
        return mandates.list_members(self.uow, **request)

    @rpc(request=contract.GrantEnterpriseMandate, response=contract.MandateId)
    def grant_enterprise_mandate(self, request):
        return mandates.grant_enterprise_mandate(self.uow, **request)

    @rpc(request=contract.ListEnterpriseMandates, response=contract.MandatePage)
    def list_enterprise_mandates(self, request):
        return mandates.list_enterprise_mandates(self.uow, **request)

    @rpc(request=contract.RevokeEnterpriseMandate)
    def revoke_enterprise_mandate(self, request):
        mandates.revoke_enterprise_mandate(self.uow, **request)

    @rpc(request=contract.GrantPersonalMandate, response=contract.MandateId)
    def grant_personal_mandate(self, request):
        return mandates.grant_personal_mandate(self.uow, **request)

    @rpc(request=contract.ListMyMandates, response=contract.MandatePage)
    def list_my_mandates(self, request):
        return mandates.list_my_mandates(self.uow, **request)

    @rpc(request=contract.RevokeMyMandate)
    def revoke_my_mandate(self, request):
        mandates.revoke_my_mandate(self.uow, **request)

    @rpc(request=contract.AuthorisePrincipal, response=contract.Authorisation)
    def authorise_principal(self, request):
        """Internal: may an account act for a principal on an item (workflow asks
        at submission and before each of an agent's later commands)."""
        return mandates.authorise_principal(self.uow, **request)

    # --- OpenID Connect provider (the gateway serves its endpoints) -----------

    @rpc(request=contract.OidcAuthorize, response=contract.AuthorizeOutcome)
    def oidc_authorize(self, request):
        return oidc.authorize(self.uow, self.crypto, self.oidc_context, **request)

    @rpc(request=contract.OidcSignIn, response=contract.BrowserSession)
    def oidc_sign_in(self, request):
        return oidc.sign_in(self.uow, self.crypto, self.oidc_context, **request)

    @rpc(request=contract.OidcConsent, response=contract.AuthorizeOutcome)
    def oidc_consent(self, request):
        return oidc.consent(self.uow, self.crypto, self.oidc_context, **request)

    @rpc(request=contract.OidcToken, response=contract.TokenAnswer)
    def oidc_token(self, request):
        return oidc.token(self.uow, self.crypto, self.oidc_context, **request)

    @rpc(request=contract.OidcUserInfoRequest, response=contract.UserInfo)
    def oidc_userinfo(self, request):
        return oidc.userinfo(self.uow, **request)

    @rpc(request=contract.OidcEndSession, response=contract.EndSessionOutcome)
    def oidc_end_session(self, request):
        return oidc.end_session(self.uow, self.crypto, self.oidc_context, **request)

    @timer(interval=3600)
    def forget_expired_client_assertions(self):
        """Hourly: drop the private_key_jwt assertion ids past their expiry."""
        oidc.forget_expired(self.uow)

    @handles("identity", "backchannel_logout_due", payload=contract.BackchannelLogoutDue)
    def on_backchannel_logout_due(self, event):
        """Tell the department system its user signed out (retried on failure)."""
        oidc.deliver_backchannel_logout(self.uow, self.crypto, self.oidc_context, event)

    # --- department systems (OIDC clients) -----------------------------------

    @rpc(request=contract.RegisterOidcClient, response=contract.OidcClientSecret)
    def register_oidc_client(self, request):
        return oidc.register_client(self.uow, **request)

    @rpc(request=contract.ListOidcClients, response=contract.OidcClientPage)
    def list_oidc_clients(self, request):
        return oidc.list_clients(self.uow, **request)

    @rpc(request=contract.OidcClientRequest, response=contract.OidcClient)
    def get_oidc_client(self, request):
        return oidc.get_client(self.uow, **request)

    @rpc(request=contract.UpdateOidcClient, response=contract.OidcClient)
    def update_oidc_client(self, request):
        return oidc.update_client(self.uow, **request)

    @rpc(request=contract.OidcClientRequest)
    def delete_oidc_client(self, request):
        oidc.delete_client(self.uow, self.crypto, **request)

    @rpc(request=contract.OidcClientRequest, response=contract.OidcClientSecret)
    def rotate_oidc_client_secret(self, request):
        return oidc.rotate_client_secret(self.uow, **request)
