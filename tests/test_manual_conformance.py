"""The user manual (seed/mode-operatoire-ceres.txt) is the users' contract: every screen, button,
label and message it names exists in the product with the same words.

One test per screen of the manual: the screen is reached the way the manual reaches it (real
sign-up, real activation link, real activation code from the back-office letter, real invitation
email through the SMTP mailbox) and every string the manual shows on it is looked for in what the
user sees — the page's visible text (not attributes, not scripts), the placeholders, the texts of
buttons and links, the email's parts, the letter's PDF text. A failure names the screen and lists
every missing string.

Comparison: whitespace collapsed, HTML entities decoded, typographic apostrophes (’) equal to the
manual's straight ones ('). The manual's screenshots print buttons, tabs and some headings or
labels in capitals (the old portal's styling); DSFR styles them in normal case: those strings
(`button`, `caps`) are compared case-insensitively, and a `button` must be the text of a link, a
button or a disclosure (<summary>). Everything else must match with its case.

Strings the product does not show yet are listed in docs/manual-conformance.md (with what the
product shows instead), not here: this test stays green on what is true, and grows as they land.
"""

from __future__ import annotations

import html
import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser

import pytest
from django.conf import settings
from django.templatetags.static import static
from django.urls import reverse
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice
from pypdf import PdfReader

from portail.accounts.models import User
from portail.centres.models import Region
from portail.demarches.catalogue import CERES, install_catalogue
from portail.demarches.models import Demarche, Role
from tests.accounts.helpers import registry_establishment, signup_data
from tests.backoffice.factories import AgentFactory, CentreFactory
from tests.factories import (
    PASSWORD,
    EstablishmentFactory,
    UserFactory,
    make_siren,
    make_siret,
)

pytestmark = pytest.mark.django_db

# --- Reading what the user sees ---------------------------------------------------------------

APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "\u00a0": " ", "\u202f": " ", "\u2009": " "})
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source"}
VOID |= {"track", "wbr", "param"}
INVISIBLE = {"script", "style", "template", "head", "title", "noscript"}
INLINE = {"a", "abbr", "b", "cite", "code", "em", "i", "label", "mark", "q", "s", "small"}
INLINE |= {"span", "strong", "sub", "sup", "time", "u"}
CLICKABLE = {"a", "button", "summary"}


def norm(text: str) -> str:
    """Entities decoded, ’ → ', every kind of space one space."""
    return " ".join(html.unescape(text).translate(APOSTROPHES).split())


@dataclass
class Node:
    tag: str
    attrs: dict[str, str]
    children: list[Node | str] = field(default_factory=list)

    def text(self) -> str:
        """The visible text: block boundaries become spaces, inline ones do not."""
        if self.tag in INVISIBLE:
            return ""
        parts = []
        for child in self.children:
            if isinstance(child, str):
                parts.append(child)
            elif child.tag == "br":
                parts.append(" ")
            elif child.tag in INLINE:
                parts.append(child.text())
            else:
                parts.append(f" {child.text()} ")
        return "".join(parts)

    def walk(self):
        yield self
        for child in self.children:
            if isinstance(child, Node):
                yield from child.walk()

    def find(self, predicate: Callable[[Node], bool]) -> Node | None:
        return next((node for node in self.walk() if predicate(node)), None)


class _TreeBuilder(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = Node("#document", {})
        self.stack = [self.root]

    def handle_starttag(self, tag, attrs):
        node = Node(tag, {k: v or "" for k, v in attrs})
        self.stack[-1].children.append(node)
        if tag not in VOID:
            self.stack.append(node)

    def handle_startendtag(self, tag, attrs):
        self.stack[-1].children.append(Node(tag, {k: v or "" for k, v in attrs}))

    def handle_endtag(self, tag):
        for depth in range(len(self.stack) - 1, 0, -1):
            if self.stack[depth].tag == tag:
                del self.stack[depth:]
                return

    def handle_data(self, data):
        self.stack[-1].children.append(data)


def parse(markup: str) -> Node:
    builder = _TreeBuilder()
    builder.feed(markup)
    builder.close()
    return builder.root


@dataclass
class Seen:
    """What a person sees of a screen, normalised."""

    text: str
    clickables: list[str] = field(default_factory=list)
    placeholders: list[str] = field(default_factory=list)
    fields: dict[str, str] = field(default_factory=dict)  # an email's subject and sender

    @classmethod
    def of_html(cls, markup: str, scope: Callable[[Node], bool] | None = None) -> Seen:
        root = parse(markup)
        if scope is not None:
            found = [node for node in root.walk() if scope(node)]
            assert found, "the part of the page the manual shows is missing"
            root = Node("#scope", {}, list(found))
        nodes = list(root.walk())
        return cls(
            text=norm(root.text()),
            clickables=[norm(node.text()) for node in nodes if node.tag in CLICKABLE]
            + [
                norm(node.attrs.get("value", ""))
                for node in nodes
                if node.tag == "input" and node.attrs.get("type") in {"submit", "button"}
            ],
            placeholders=[norm(n.attrs["placeholder"]) for n in nodes if "placeholder" in n.attrs],
        )


def by_id(element_id: str) -> Callable[[Node], bool]:
    return lambda node: node.attrs.get("id") == element_id


def by_class(css_class: str) -> Callable[[Node], bool]:
    return lambda node: css_class in node.attrs.get("class", "").split()


# --- What the manual says -----------------------------------------------------------------------


@dataclass(frozen=True)
class Expect:
    words: str
    kind: str = "text"  # text, caps, button, placeholder, pattern, subject, sender

    def found_in(self, seen: Seen) -> bool:
        words = norm(self.words)
        if self.kind == "text":
            return words in seen.text
        if self.kind == "caps":
            return words.casefold() in seen.text.casefold()
        if self.kind == "button":
            return any(words.casefold() in text.casefold() for text in seen.clickables)
        if self.kind == "placeholder":
            return words in seen.placeholders
        if self.kind == "pattern":
            return re.search(self.words, seen.text) is not None
        return words in norm(seen.fields.get(self.kind, ""))

    def __str__(self):
        return f"{self.kind} {self.words!r}"


def text(*words: str) -> list[Expect]:
    return [Expect(w) for w in words]


def caps(*words: str) -> list[Expect]:
    return [Expect(w, "caps") for w in words]


def button(*words: str) -> list[Expect]:
    return [Expect(w, "button") for w in words]


def placeholder(*words: str) -> list[Expect]:
    return [Expect(w, "placeholder") for w in words]


SERVICE = "Mes Démarches Emploi et Formation Professionnelle"
EMAIL_FOOTER = text(
    "Cordialement,",
    f"L'équipe technique {SERVICE}",
    "Ce message est envoyé par un automate, merci de ne pas y répondre : votre réponse ne "
    "pourra pas être traitée.",
)
LOGIN_FORM = [
    *text("Connectez-vous", "Pas encore de compte ?"),
    *button("SE CRÉER UN COMPTE"),
    *caps("ADRESSE ÉLECTRONIQUE", "MOT DE PASSE"),
    *placeholder("Entrez votre adresse électronique", "Entrez votre mot de passe"),
    *button("Mot de passe oublié ?", "SE CONNECTER"),
    *text("Si vous avez changé d'adresse mail, merci de vous créer un nouveau compte"),
]
HOME = [
    *button("Agent du ministère ?"),
    *caps("ACCÉDEZ SIMPLEMENT À VOS DÉMARCHES EN LIGNE"),
    *text(
        "Vous allez découvrir et accéder aux différentes démarches telles que Mon activité "
        "formation, Mes collectes formation ou Mon suivi du contrôle.",
        "Pour démarrer :",
        "Créez vous un compte.",
        "Validez vos accès.",
        "Accédez à vos démarches.",
    ),
    *button("EN SAVOIR PLUS"),
    *LOGIN_FORM,
]
SIGNUP_COMMON = [
    *text("Créer votre compte"),
    *button("PARTICULIER", "PROFESSIONNEL", "PARTENAIRE"),
    *text("Vos informations de connexion", "Email *", "Mot de passe *"),
    *text("Confirmez votre mot de passe *"),
    *text("Vos coordonnées", "Civilité *", "Madame", "Monsieur", "Nom *", "Prénom *"),
    *text("Téléphone *"),
    *text("Confirmez que vous n'êtes pas une machine"),
    *button("RETOUR", "CRÉER MON COMPTE"),
]
ESTABLISHMENT_BLOCK = text("Votre établissement", "SIRET *", "Raison sociale", "Adresse", "Commune")
ACTIVATION_FORM = [
    *caps("SAISIR LE CODE D'ACTIVATION"),
    *text(
        "Pour valider votre accès à la démarche, veuillez préciser :",
        "SIRET Enregistré *",
        "Code d'activation *",
    ),
    *button("ABANDONNER", "VALIDER MON ACCÈS"),
    *text(
        "Si vous ne trouvez pas votre code d'activation, veuillez contacter le service en charge "
        "de la démarche."
    ),
]
INVITE_FORM = [
    *text(
        "Qui souhaitez-vous inviter ?",
        "Vous pouvez inviter une personne de votre entreprise qui dispose déjà d'un compte portail "
        "en le sélectionnant à l'aide du champ de recherche ci-dessous.",
        "Utilisateur",
        "Commencez à taper le nom, une liste vous sera proposée",
        "La personne ne dispose pas de compte Portail ?",
    ),
    *button("AJOUTER SON ADRESSE EMAIL"),
    *text(
        "Quel rôle souhaitez-vous lui donner ?",
        "Rôle *",
        "Centre agréé",
        "Centres de formation",
        "Gestionnaire CENTRES",
        "Gestionnaire des comptes CENTRES",
        "Pour quel établissement de votre entreprise ?",
        "SIRET de l'habilitation *",
        "Récapitulatif de l'invitation",
        "Objet",
        "Invitation à rejoindre la démarche CERES",
        "Message",
        "Bonjour,",
        "Guy Duponttest vous invite à accéder au service CERES avec le rôle",
        "Pour valider cette invitation, veuillez vous connecter sur le portail Mes Démarches "
        "Emploi et Formation Professionnelle en suivant le lien ci-dessous.",
    ),
    *button("ABANDONNER", "CONTINUER"),
]
INVITATION_BODY = [
    *text(
        "Bonjour,",
        # The manual's screen of the form forgets the role; its email shows it.
        "Guy Duponttest vous invite à accéder au service CERES avec le rôle Centre agréé pour "
        "l'entreprise CFI ATLANTIQUE.",
        "Pour valider cette invitation, veuillez vous connecter sur le portail Mes Démarches "
        "Emploi et Formation Professionnelle en suivant le lien ci-dessous.",
        "/habilitations/invitations/",
        "Si vous n'avez pas de compte sur le Portail de Services, il faudra vous en créer un au "
        "préalable.",
    ),
    *EMAIL_FOOTER,
]

MANUAL: dict[str, list[Expect]] = {
    "accueil (page de connexion)": HOME,
    "Créer votre compte — PROFESSIONNEL": [*SIGNUP_COMMON, *ESTABLISHMENT_BLOCK],
    "Créer votre compte — PARTENAIRE": [*SIGNUP_COMMON, *ESTABLISHMENT_BLOCK],
    "Créer votre compte — PARTICULIER": SIGNUP_COMMON,
    # The ALTCHA widget (no reCAPTCHA: decision 0004) labels its box with the manual's words.
    "Créer votre compte — case anti-robot": text('label: "Je ne suis pas un robot"'),
    "message d'activation de compte": text("message d'activation de compte"),
    "courriel de création du compte": [*text("/activation/"), *EMAIL_FOOTER],
    "Activer mon compte": button("Activer mon compte"),
    "Accéder au portail": button("Accéder au portail"),
    "Mes démarches — vide": [
        *text(
            "Mes démarches",
            "Ajoutez votre première démarche depuis la liste ci-dessous",
            "Les autres démarches",
            "Mon Activité Formation",
        ),
        *button("CERES", "Ajouter"),
    ],
    "Ajouter une démarche — fenêtre": [
        *text("Ajouter une démarche"),
        *button("DEMANDER L'ACCÈS À UN GESTIONNAIRE", "SAISIR LE CODE D'ACTIVATION"),
    ],
    "Ajouter une démarche — page sans JavaScript": [
        *text("Ajouter une démarche"),
        *button("DEMANDER L'ACCÈS À UN GESTIONNAIRE", "SAISIR LE CODE D'ACTIVATION"),
    ],
    "SAISIR LE CODE D'ACTIVATION": ACTIVATION_FORM,
    "Mes démarches — avec CERES": text("Mes démarches", "Les autres démarches"),
    "tuile Certifications Emplois — CERES": [
        *text("Certifications Emplois", "CERES"),
        *button("CERES"),
    ],
    "gestion de la démarche CERES (écrou)": [
        *text("CERES Certification professionnelle", "Guy Duponttest GD"),
        *text("Personnes habilitées pour mon entreprise", "Caractéristiques"),
        *text("Historique des messages"),
        *button("INVITER UN UTILISATEUR", "DÉLÉGUER UNE HABILITATION À UN TIERS"),
        *text("Centre agréé 1 Personne", "Gestionnaire CENTRES 1 Personne"),
        *text("Libellé CERES", "Type de service Certification professionnelle"),
        *text("Mentions légales", "v 2.6.1", "Liberté • Égalité • Fraternité"),
        *caps("RÉPUBLIQUE FRANÇAISE"),
    ],
    "Inviter un utilisateur — fenêtre": [*text("Inviter un utilisateur"), *INVITE_FORM],
    "Inviter un utilisateur — page sans JavaScript": [
        *text("Inviter un utilisateur"),
        *INVITE_FORM,
    ],
    "Inviter un utilisateur — récapitulatif rempli": [
        *INVITE_FORM,
        *text(
            "Dominique Demandeur",  # 4) the name typed → the account shows
            "Guy Duponttest vous invite à accéder au service CERES avec le rôle Centre agréé "
            "pour l'entreprise CFI ATLANTIQUE.",
        ),
    ],
    "Inviter un utilisateur — liste proposée": text("Dominique Demandeur"),
    "Email d'invitation transmis": text("Email d'invitation transmis"),
    "courriel d'invitation (texte)": [
        Expect("Invitation à rejoindre la démarche CERES", "subject"),
        Expect("no-reply@emploi.gouv.fr", "sender"),
        *INVITATION_BODY,
    ],
    "courriel d'invitation (HTML)": INVITATION_BODY,
    "lien d'invitation sans être connecté": LOGIN_FORM,
    "lien d'invitation après connexion": [
        *text("Invitation à rejoindre la démarche CERES"),
        *button("Accepter"),
    ],
    "invitation — Accepter": [
        *text("Invitation à rejoindre la démarche CERES", "Centre agréé", "CFI ATLANTIQUE"),
        *button("Accepter"),
    ],
    "invitation acceptée — Mes démarches": [
        *text("Certifications Emplois", "CERES"),
        *button("CERES"),
    ],
    "courrier Modalités d'accès à l'applicatif CERES": [
        # "Paris, le 29 Octobre 2018": the month in lower case, as French writes it.
        Expect(r"Paris, le \d{1,2} [a-zéû]+ \d{4} Objet", "pattern"),
        *text(
            "CFI ATLANTIQUE",
            "Objet : Modalités d'accès à l'applicatif CERES",
            "Madame, Monsieur,",
            "Vous avez un agrément pour organiser des sessions d'examen pour l'obtention d'un titre "
            "professionnel du ministère chargé de l'emploi.",
            "Pour vous connecter à CERES (CERTifications Emplois), l'applicatif qui centralise "
            "l'ensemble des processus métiers gérés par les différents acteurs de la politique du "
            "titre professionnel du ministère chargé de l'emploi, vous devez créer un compte "
            "personnel CERES sur le portail de services :",
            "Pour ce faire, vous devez vous munir des éléments suivants de votre dossier :",
            "SIRET :",
            "Code d'activation :",
            "En cas de difficultés pour vous créer un compte, ou si vous estimez que ni votre centre, "
            "ni votre siège n'êtes concernés par ce courrier, vous pouvez vous adresser au service "
            "d'assistance téléphonique du lundi au vendredi 9h à 18h au 01 46 29 25 54.",
        ),
    ],
    "Mot de passe oublié ?": text("Mot de passe oublié ?"),
    "Agent du ministère ?": text("Agent du ministère ?"),
}


# --- Reaching each screen as the manual does ------------------------------------------------


@dataclass
class World:
    """The manual's cast: CFI ATLANTIQUE, its gestionnaire Guy Duponttest, a colleague."""

    client: object
    request: pytest.FixtureRequest

    @property
    def ceres(self) -> Demarche:
        return Demarche.objects.get(code=CERES)

    def mailbox(self):
        return self.request.getfixturevalue("mailbox")


def html_of(response) -> str:
    assert response.status_code == 200, (response.status_code, response.get("Location"))
    return response.content.decode()


def _cfi_atlantique():
    siren = make_siren(7981013)
    return EstablishmentFactory(
        siren=siren, siret=make_siret(siren, 1), name="CFI ATLANTIQUE", is_head_office=True
    )


def _person(first, last, establishment, email):
    return UserFactory(
        email=email,
        first_name=first,
        last_name=last,
        establishment=establishment,
        declared_siret=establishment.siret,
        declared_siren=establishment.siren,
        declared_company_name=establishment.name,
        establishment_verified=True,
    )


def _agent_client(world: World):
    """A ministry agent of Pays de la Loire, signed in with their second factor."""
    agent = AgentFactory(regions=["52"])
    world.client.force_login(agent.user)
    device = TOTPDevice.objects.get(user=agent.user, confirmed=True)
    session = world.client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return agent


def _letter(world: World, establishment) -> str:
    """The PDF letter the back-office prints for the centre, as text."""
    centre = CentreFactory(establishment=establishment, region=Region.objects.get(code="52"))
    response = world.client.post(reverse("backoffice:centre_letter", kwargs={"pk": centre.pk}))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(response.content))
    return " ".join(page.extract_text() for page in reader.pages)


def _gestionnaire(world: World):
    """Part A walked: the letter's SIRET and code typed into "SAISIR LE CODE D'ACTIVATION"."""
    head = _cfi_atlantique()
    _agent_client(world)
    letter = norm(_letter(world, head))
    siret = re.search(r"SIRET : (\d{14})", letter).group(1)
    code = re.search(r"Code d'activation : ([0-9A-Z-]+)", letter).group(1)
    world.client.logout()
    guy = _person("Guy", "Duponttest", head, "guy.duponttest@cfi-atlantique.fr")
    world.client.force_login(guy)
    response = world.client.post(
        reverse("demarches:activate", args=[CERES]), {"siret": siret, "code": code}
    )
    assert response.status_code == 302, html.unescape(response.content.decode())
    return guy, head


def _manage_url() -> str:
    return reverse("habilitations:manage", args=[CERES])


def _invitation_form(world: World, head) -> dict:
    centre_role = world.ceres.roles.get(code="centre-agree")
    return {"role": centre_role.pk, "establishment": head.siret}


def _invited(world: World):
    """The gestionnaire invites the colleague Dominique Demandeur as "Centre agréé"."""
    _guy, head = _gestionnaire(world)
    colleague = _person("Dominique", "Demandeur", head, "dominique.demandeur@cfi-atlantique.fr")
    response = world.client.post(
        reverse("habilitations:invite", args=[CERES]),
        {**_invitation_form(world, head), "user": str(colleague.public_id), "action": "continue"},
        follow=True,
    )
    return colleague, response


def _invitation_message(world: World):
    colleague, _response = _invited(world)
    return colleague, world.mailbox().wait_for(colleague.email, "Invitation")


def _invitation_path(world: World):
    colleague, message = _invitation_message(world)
    link = world.mailbox().link(message, "/habilitations/invitations/")
    return colleague, re.sub(r"^https?://[^/]+", "", link)


def _signed_up(world: World):
    """Part A, steps 1-7: PROFESSIONNEL, the SIRET found in the registry, CRÉER MON COMPTE."""
    siret = registry_establishment("CFI ATLANTIQUE")
    data = signup_data(
        world.client,
        siret=siret,
        company_name="CFI ATLANTIQUE",
        address="12 rue des Écoles",
        commune="44000 NANTES",
    )
    response = world.client.post(reverse("accounts:signup"), data, follow=True)
    return data["email"], response


def _activation_path(world: World) -> str:
    email, _response = _signed_up(world)
    message = world.mailbox().wait_for(email, "")
    return re.sub(r"^https?://[^/]+", "", world.mailbox().link(message, "/activation/"))


def _home_link(world: World, label: str) -> str:
    """The href of the home page's link whose text is `label`."""
    root = parse(html_of(world.client.get("/")))
    link = root.find(lambda n: n.tag == "a" and norm(n.text()) == norm(label))
    assert link is not None, f"no link {label!r} on the home page"
    return link.attrs["href"]


def screen_home(world):
    return Seen.of_html(html_of(world.client.get("/")))


def _signup_tab(kind):
    def render(world):
        return Seen.of_html(html_of(world.client.get(reverse("accounts:signup"), {"type": kind})))

    return render


def screen_robot(world):
    """The ALTCHA widget's French words, as the sign-up page loads them."""
    page = html_of(world.client.get(reverse("accounts:signup")))
    assert "<altcha-widget" in page
    assert 'language="fr-fr"' in page
    response = world.client.get(static("accounts/vendor/altcha/i18n/fr-fr.js"))
    assert response.status_code == 200
    return Seen(text=norm(b"".join(response.streaming_content).decode()))


def screen_activation_message(world):
    _email, response = _signed_up(world)
    assert response.redirect_chain[-1][0] == reverse("accounts:signup_done")
    return Seen.of_html(html_of(response))


def screen_activation_email(world):
    email, _response = _signed_up(world)
    message = world.mailbox().wait_for(email, "")
    return Seen(text=norm(message.text))


def screen_activate(world):
    return Seen.of_html(html_of(world.client.get(_activation_path(world))))


def screen_activated(world):
    page = html_of(world.client.post(_activation_path(world)))
    root = parse(page)
    go = root.find(lambda n: n.tag == "a" and norm(n.text()).casefold() == "accéder au portail")
    assert go is not None
    assert go.attrs["href"].startswith(reverse("home"))
    return Seen.of_html(page)


def screen_mes_demarches_empty(world):
    world.client.force_login(_person("Alice", "Durand", _cfi_atlantique(), "alice@cfi.fr"))
    return Seen.of_html(html_of(world.client.get(reverse("demarches:mes_demarches"))))


def screen_add_modal(world):
    world.client.force_login(_person("Alice", "Durand", _cfi_atlantique(), "alice@cfi.fr"))
    page = html_of(world.client.get(reverse("demarches:mes_demarches")))
    # 4) « Ajouter » of CERES opens this dialog (demarches.js turns the link into its button).
    opener = parse(page).find(
        lambda n: n.attrs.get("data-portail-modal") == f"fr-modal-add-{CERES}"
    )
    assert opener is not None
    assert norm(opener.text()).startswith("Ajouter")
    return Seen.of_html(page, by_id(f"fr-modal-add-{CERES}"))


def screen_add_page(world):
    world.client.force_login(_person("Alice", "Durand", _cfi_atlantique(), "alice@cfi.fr"))
    return Seen.of_html(html_of(world.client.get(reverse("demarches:add", args=[CERES]))))


def screen_activation_form(world):
    world.client.force_login(_person("Alice", "Durand", _cfi_atlantique(), "alice@cfi.fr"))
    url = reverse("demarches:activate", args=[CERES])
    return Seen.of_html(html_of(world.client.get(url)))


def screen_mes_demarches_with_ceres(world):
    _gestionnaire(world)
    return Seen.of_html(html_of(world.client.get(reverse("demarches:mes_demarches"))))


def screen_tile(world):
    _gestionnaire(world)
    page = html_of(world.client.get(reverse("demarches:mes_demarches")))
    tile = parse(page).find(by_id(f"tile-{CERES}"))
    assert tile is not None
    # The gear ("écrou") of the tile leads to the management page.
    assert f'href="{_manage_url()}"' in page
    return Seen.of_html(page, by_id(f"tile-{CERES}"))


def screen_manage(world):
    _gestionnaire(world)
    return Seen.of_html(html_of(world.client.get(_manage_url())))


def screen_invite_modal(world):
    _gestionnaire(world)
    page = html_of(world.client.get(_manage_url()))
    # 3) « Inviter un utilisateur » opens this dialog.
    opener = parse(page).find(
        lambda n: (
            n.tag == "button"
            and n.attrs.get("aria-controls") == "modal-inviter"
            and "data-fr-opened" in n.attrs  # DSFR's opener; the close button has none
        )
    )
    assert opener is not None
    assert norm(opener.text()).casefold() == "inviter un utilisateur"
    return Seen.of_html(page, by_id("modal-inviter"))


def screen_invite_page(world):
    _gestionnaire(world)
    return Seen.of_html(html_of(world.client.get(reverse("habilitations:invite", args=[CERES]))))


def screen_invite_filled(world):
    """Without JavaScript: the name typed, "Rechercher", the role and SIRET chosen."""
    _guy, head = _gestionnaire(world)
    _person("Dominique", "Demandeur", head, "dominique.demandeur@cfi-atlantique.fr")
    response = world.client.post(
        reverse("habilitations:invite", args=[CERES]),
        {**_invitation_form(world, head), "user_query": "Demandeur", "action": "search"},
    )
    return Seen.of_html(html_of(response))


def screen_autocomplete(world):
    _guy, head = _gestionnaire(world)
    _person("Dominique", "Demandeur", head, "dominique.demandeur@cfi-atlantique.fr")
    response = world.client.get(reverse("habilitations:autocomplete", args=[CERES]), {"q": "Deman"})
    assert response.status_code == 200
    return Seen(text=norm(" ".join(row["name"] for row in response.json()["results"])))


def screen_invitation_sent(world):
    _colleague, response = _invited(world)
    assert response.redirect_chain[-1][0] == _manage_url()
    # The message is a green (success) one.
    return Seen.of_html(html_of(response), by_class("fr-alert--success"))


def screen_invitation_email_text(world):
    _colleague, message = _invitation_message(world)
    return Seen(
        text=norm(message.text), fields={"subject": message.subject, "sender": message.sender}
    )


def screen_invitation_email_html(world):
    _colleague, message = _invitation_message(world)
    return Seen.of_html(message.html)


def screen_invitation_anonymous(world):
    _colleague, path = _invitation_path(world)
    world.client.logout()
    response = world.client.get(path, follow=True)
    assert response.redirect_chain, "the link should lead to the login page"
    return Seen.of_html(html_of(response))


def screen_invitation_after_login(world):
    """9) the link, 10) the invitee's address and password, 11) "Accepter"."""
    colleague, path = _invitation_path(world)
    world.client.logout()
    login_page = world.client.get(path, follow=True)
    login_url = login_page.redirect_chain[-1][0]
    next_field = parse(html_of(login_page)).find(
        lambda n: n.tag == "input" and n.attrs.get("name") == "next"
    )
    assert next_field is not None
    assert next_field.attrs.get("value") == path, "the invitation is forgotten at login"
    response = world.client.post(
        login_url, {"email": colleague.email, "password": PASSWORD, "next": path}, follow=True
    )
    assert response.redirect_chain[-1][0] == path
    return Seen.of_html(html_of(response))


def screen_invitation_accept(world):
    colleague, path = _invitation_path(world)
    world.client.force_login(colleague)
    return Seen.of_html(html_of(world.client.get(path)))


def screen_invitation_accepted(world):
    colleague, path = _invitation_path(world)
    world.client.force_login(colleague)
    response = world.client.post(path, {"decision": "accept"}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("demarches:mes_demarches")
    return Seen.of_html(html_of(response), by_id(f"tile-{CERES}"))


def screen_letter(world):
    _agent_client(world)
    letter = _letter(world, _cfi_atlantique())
    assert settings.PORTAL_BASE_URL in letter
    return Seen(text=norm(letter))


def screen_password_forgotten(world):
    return Seen.of_html(html_of(world.client.get(_home_link(world, "Mot de passe oublié ?"))))


def screen_agent(world):
    response = world.client.get(_home_link(world, "Agent du ministère ?"), follow=True)
    assert response.redirect_chain[-1][0] == reverse("backoffice:login")
    html_of(response)
    return Seen.of_html(html_of(world.client.get("/")))


SCREENS: dict[str, Callable[[World], Seen]] = {
    "accueil (page de connexion)": screen_home,
    "Créer votre compte — PROFESSIONNEL": _signup_tab(User.AccountType.PROFESSIONNEL),
    "Créer votre compte — PARTENAIRE": _signup_tab(User.AccountType.PARTENAIRE),
    "Créer votre compte — PARTICULIER": _signup_tab(User.AccountType.PARTICULIER),
    "Créer votre compte — case anti-robot": screen_robot,
    "message d'activation de compte": screen_activation_message,
    "courriel de création du compte": screen_activation_email,
    "Activer mon compte": screen_activate,
    "Accéder au portail": screen_activated,
    "Mes démarches — vide": screen_mes_demarches_empty,
    "Ajouter une démarche — fenêtre": screen_add_modal,
    "Ajouter une démarche — page sans JavaScript": screen_add_page,
    "SAISIR LE CODE D'ACTIVATION": screen_activation_form,
    "Mes démarches — avec CERES": screen_mes_demarches_with_ceres,
    "tuile Certifications Emplois — CERES": screen_tile,
    "gestion de la démarche CERES (écrou)": screen_manage,
    "Inviter un utilisateur — fenêtre": screen_invite_modal,
    "Inviter un utilisateur — page sans JavaScript": screen_invite_page,
    "Inviter un utilisateur — récapitulatif rempli": screen_invite_filled,
    "Inviter un utilisateur — liste proposée": screen_autocomplete,
    "Email d'invitation transmis": screen_invitation_sent,
    "courriel d'invitation (texte)": screen_invitation_email_text,
    "courriel d'invitation (HTML)": screen_invitation_email_html,
    "lien d'invitation sans être connecté": screen_invitation_anonymous,
    "lien d'invitation après connexion": screen_invitation_after_login,
    "invitation — Accepter": screen_invitation_accept,
    "invitation acceptée — Mes démarches": screen_invitation_accepted,
    "courrier Modalités d'accès à l'applicatif CERES": screen_letter,
    "Mot de passe oublié ?": screen_password_forgotten,
    "Agent du ministère ?": screen_agent,
}


@pytest.fixture
def world(client, request):
    # A transactional test elsewhere in the run may have flushed the data migrations' rows.
    install_catalogue(Demarche, Role)
    # The manual's screens come without the second factor CERES asks of its gestionnaires:
    # its detours (enrolment, step-up) are tests/habilitations/test_strong_auth.py's.
    Demarche.objects.filter(code=CERES).update(requires_mfa=False)
    Region.objects.get_or_create(code="52", defaults={"name": "Pays de la Loire"})
    return World(client=client, request=request)


def test_every_screen_of_the_manual_is_checked():
    assert set(SCREENS) == set(MANUAL)


@pytest.mark.parametrize("screen", list(MANUAL))
def test_screen_says_what_the_manual_says(screen, world):
    seen = SCREENS[screen](world)
    missing = [str(expect) for expect in MANUAL[screen] if not expect.found_in(seen)]
    assert not missing, f"{screen}: missing from the product: {missing}\n\nseen: {seen.text}"


@pytest.mark.parametrize(
    ("expect", "seen", "found"),
    [
        (Expect("SIRET de l'habilitation *"), Seen(norm("SIRET de l’habilitation&nbsp;*")), True),
        (Expect("SE CONNECTER", "button"), Seen.of_html("<button>Se connecter</button>"), True),
        (Expect("SE CONNECTER", "button"), Seen.of_html("<p>Se connecter</p>"), False),
        (Expect("SE CONNECTER"), Seen.of_html("<button>Se connecter</button>"), False),
        (Expect("Libellé CERES"), Seen.of_html("<dl><dt>Libellé</dt><dd>CERES</dd></dl>"), True),
        (Expect("l'invitation"), Seen.of_html("<p>l’<em>invitation</em></p>"), True),
        (Expect("Rôle"), Seen.of_html('<input title="Rôle"><script>"Rôle"</script>'), False),
        (Expect("Entrez", "placeholder"), Seen.of_html('<input placeholder="Entrez">'), True),
        (Expect("Entrez", "placeholder"), Seen.of_html("<p>Entrez</p>"), False),
        (Expect("Bonjour", "subject"), Seen("", fields={"subject": "[TEST] Bonjour"}), True),
        (Expect("ACCÉDEZ", "caps"), Seen.of_html("<h1>Accédez</h1>"), True),
        (Expect("ACCÉDEZ"), Seen.of_html("<h1>Accédez</h1>"), False),
    ],
)
def test_the_comparison_is_neither_blind_nor_too_strict(expect, seen, found):
    assert expect.found_in(seen) is found
