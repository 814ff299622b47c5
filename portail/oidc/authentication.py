"""What the provider says of how the person signed in, and what a démarche may ask of it.

- `amr` (RFC 8176) comes from the portal session (portail.core.strong_auth): "pwd" for the
  password, "otp" for a TOTP or recovery code, "hwk"/"swk" for a passkey (hardware-bound or
  synced), "user" for the gesture that unlocked it, "mfa" when more than one kind was used.
- `acr`: `ACR_MFA` when "mfa" is in `amr`, else `ACR_PASSWORD`. A démarche that sends
  `acr_values=urn:portail:acr:mfa` gets a person who has used a second factor in this session;
  a person with none is led to enrol one, one who has signed in without it is asked for it.
- `acr_values` the provider does not know at all: `unmet_authentication_requirements` (OpenID
  Connect Core 1.0 errata set 2, §3.1.2.6) to the démarche, and no code.
- `max_age`: a login older than that is asked again, as `prompt=login` asks it always.
"""

ACR_PASSWORD = "urn:portail:acr:pwd"  # noqa: S105 -- a level name, not a secret
ACR_MFA = "urn:portail:acr:mfa"
ACR_VALUES = [ACR_PASSWORD, ACR_MFA]
UNMET = "unmet_authentication_requirements"


def acr_for(amr: list[str]) -> str:
    return ACR_MFA if "mfa" in amr else ACR_PASSWORD


def wants_mfa(acr_values: list[str]) -> bool:
    """Any of the démarche's acr_values will do: a second factor only when it asks nothing less."""
    return ACR_MFA in acr_values and ACR_PASSWORD not in acr_values


def unknown_only(acr_values: list[str]) -> bool:
    """The démarche asks acr values and the provider knows none of them."""
    return bool(acr_values) and not set(acr_values) & set(ACR_VALUES)
