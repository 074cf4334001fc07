"""A small demo network, so that a first `make run` shows a living Maillage.

Real small towns of Brittany, from the official data, with members of every role. Loading it
again changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from maillage.accounts import operations as accounts
from maillage.accounts.models import Role, VerificationSource
from maillage.accounts.queries import user_by_email
from maillage.attachments.operations import File, attach
from maillage.database import session
from maillage.follows.models import Target
from maillage.follows.operations import follow
from maillage.help.models import HelpOffer, HelpRequest
from maillage.help.operations import answer, ask_for_help, offer_help
from maillage.initiatives.models import Initiative
from maillage.initiatives.operations import publish_initiative, replicate, save_record
from maillage.networks.models import LabelAward, Network, NetworkMembership
from maillage.themes.operations import load_themes
from maillage.themes.queries import get_theme
from maillage.towns.models import Town
from maillage.towns.operations import import_communes

PASSWORD = "maillage-demo"
FILES = Path(__file__).parent / "files"
DEPARTMENTS = ("22", "29", "35", "56")
NETWORKS = (
    ("apvf", "Association des petites villes de France",
     "Les villes de 2 500 à 25 000 habitants, pour défendre leur place et partager."),
    ("villes-internet", "Villes Internet",
     "Le réseau des collectivités qui font un numérique citoyen, et son label « @ »."),
)


def load_demo() -> list[tuple[str, str]]:
    """Create the demo network and return the demo accounts with what each can show."""
    load_themes()
    if session.scalar(sa.select(sa.func.count()).select_from(Town)) == 0:
        import_communes()
    towns = _demo_towns()
    networks = {slug: _network(slug, name, text) for slug, name, text in NETWORKS}
    for index, town in enumerate(towns):
        _member(networks["apvf"], town, 2015 + index % 8)
        if index % 3 == 0:
            _member(networks["villes-internet"], town, 2018 + index % 5)
            for year in (2024, 2025):
                _label(town, year, 1 + (index + year) % 5)
    session.flush()

    first, second, third = towns[0], towns[1], towns[9]
    people = [
        DemoPerson("admin@maillage.localhost", "Administratrice du réseau", "network admin",
                   admin=True),
        DemoPerson("moderation@maillage.localhost", "Modération", "moderator", moderator=True),
        DemoPerson(f"maire@{first.insee}.maillage.localhost", f"Maire de {first.name}",
                   f"verified elected member of {first.name}", first, Role.ELECTED),
        DemoPerson(f"agent@{first.insee}.maillage.localhost", f"Agent de {first.name}",
                   f"verified agent of {first.name}", first, Role.AGENT),
        DemoPerson(f"nouvel-agent@{first.insee}.maillage.localhost", "Nouvel agent",
                   f"agent of {first.name}, waiting for verification", first, Role.AGENT,
                   verified=False),
        DemoPerson(f"referente@{second.insee}.maillage.localhost",
                   f"Référente numérique de {second.name}",
                   f"referent of {second.name} (cybersecurity, digital sobriety)", second,
                   Role.REFERENT, expertise=("cybersecurite", "sobriete-numerique")),
        DemoPerson(f"referent@{third.insee}.maillage.localhost",
                   f"Référent numérique de {third.name}",
                   f"referent of {third.name} (online services, inclusion)", third,
                   Role.REFERENT, expertise=("services-publics-en-ligne", "inclusion-numerique")),
    ]
    for person in people:
        _ensure(person)
    _initiatives(people)
    _help(people)
    return [(person.email, person.description) for person in people]


# (author's index in the demo people, themes, title, summary, body)
INITIATIVES = (
    (3, ["sobriete-numerique"], "Un parc d'imprimantes divisé par deux",
     "Mutualisation des imprimantes de la mairie et impression recto-verso par défaut.",
     "**Ce que nous avons fait** : un inventaire, puis trois copieurs partagés au lieu de "
     "onze imprimantes.\n\n- paramétrage recto-verso\n- badge pour libérer les impressions"),
    (2, ["services-publics-en-ligne", "inclusion-numerique"],
     "Démarches d'état civil en ligne, avec un accueil pour les aider",
     "Les demandes d'actes se font en ligne, et un conseiller numérique accompagne en mairie.",
     "La dématérialisation des demandes d'actes a libéré du temps à l'accueil, consacré à "
     "l'accompagnement des habitants les plus éloignés du numérique."),
    (5, ["cybersecurite"], "Double authentification pour toutes les messageries",
     "Après une tentative d'hameçonnage, tous les comptes des élus et agents sont protégés.",
     "Nous avons suivi le guide de l'ANSSI et formé les agents en deux demi-journées."),
    (6, ["donnees-ouvertes"], "Les délibérations du conseil en données ouvertes",
     "Chaque délibération est publiée au format ouvert le lendemain du conseil.",
     "Publication automatique depuis le logiciel de gestion des actes."),
)


def _initiatives(people: list[DemoPerson]) -> None:
    """Post the demo initiatives once, and make the demo people follow a few themes."""
    for index, themes, title, summary, body in INITIATIVES:
        if session.scalar(sa.select(Initiative.id).where(Initiative.title == title)):
            continue
        person = people[index]
        author = user_by_email(person.email)
        publish_initiative(author, town=person.town.insee, title=title, summary=summary,
                           body=body, themes=themes, status="done")
    _records(people)
    for person, slug in ((people[2], "cybersecurite"), (people[3], "donnees-ouvertes"),
                         (people[5], "sobriete-numerique"), (people[6], "cybersecurite")):
        follow(user_by_email(person.email), Target.THEME, get_theme(slug).id)


def _funding(**amounts: int) -> list[dict[str, object]]:
    return [{"scheme": scheme.replace("_", "-"), "amount_eur": amount}
            for scheme, amount in amounts.items()]


def _records(people: list[DemoPerson]) -> None:
    """Give the printers initiative its record and its documents, and two other demo towns'
    "we did it too" theirs: three towns of a band and theme, so that what it cost towns like
    mine shows."""
    printers = session.scalar(sa.select(Initiative).where(
        Initiative.title == INITIATIVES[0][2]))
    if printers is None or printers.record is not None:
        return
    author = user_by_email(people[3].email)
    save_record(author, printers, None, {
        "solution": "Trois copieurs multifonctions en location, badge d'impression",
        "funding": _funding(dsil=12_000, own_budget=12_000), "total_cost_eur": 24_000,
        "duration_months": 8, "results": "Deux fois moins de pages imprimées en un an.",
        "indicators": [{"name": "Pages imprimées", "value": -52, "unit": "%"}],
        "contact_id": author.id})
    attach(author.id, [
        File("Cahier des charges - copieurs partagés.pdf",
             (FILES / "cahier-des-charges-copieurs.pdf").read_bytes()),
        File("Pages imprimées par mois.png",
             (FILES / "pages-imprimees-par-mois.png").read_bytes())], initiative_id=printers.id)
    for index, cost, funding, months in (
            (5, 15_000, _funding(detr=9_000, own_budget=6_000), 5),
            (6, 30_000, _funding(dsil=10_000, region=10_000, own_budget=10_000), 12)):
        person = people[index]
        replicate(user_by_email(person.email), printers, town=person.town.insee,
                  note="Même démarche, avec nos agents.", record={
                      "solution": "Copieurs partagés et recto-verso par défaut",
                      "funding": funding, "total_cost_eur": cost, "duration_months": months})


def _help(people: list[DemoPerson]) -> None:
    """Ask for help twice, answer once, and offer help, once."""
    agent, referent, other_referent = (user_by_email(people[i].email) for i in (3, 5, 6))
    if session.scalar(sa.select(HelpRequest.id).limit(1)) is None:
        asked = ask_for_help(
            agent, town=people[3].town.insee, themes=["cybersecurite"],
            title="Des courriels d'hameçonnage au nom du maire",
            body="Plusieurs agents ont reçu des courriels imitant le maire. Comment "
                 "**protéger notre nom de domaine** (SPF, DKIM, DMARC) sans prestataire ?")
        answer(referent, asked, "Nous l'avons fait l'an dernier : commencez par un "
               "enregistrement **DMARC** en mode `p=none` pour observer, puis durcissez.")
        ask_for_help(
            agent, town=people[3].town.insee, themes=["inclusion-numerique"],
            title="Former les aidants numériques de la mairie",
            body="Quelle formation pour deux agents d'accueil qui aident aux démarches ?")
    if session.scalar(sa.select(HelpOffer.id).limit(1)) is None:
        offer_help(other_referent, themes=["services-publics-en-ligne"],
                   title="Nos formulaires en ligne : demandez-nous",
                   body="Nous avons mis en ligne toutes nos démarches ; "
                        "nous partageons nos modèles et nos erreurs.")


@dataclass(frozen=True)
class DemoPerson:
    email: str
    name: str
    description: str
    town: Town | None = None
    role: Role | None = None
    verified: bool = True
    admin: bool = False
    moderator: bool = False
    expertise: tuple[str, ...] = ()


def _demo_towns() -> list[Town]:
    towns: list[Town] = []
    for department in DEPARTMENTS:
        towns += session.scalars(
            sa.select(Town).where(Town.department_code == department,
                                  Town.population.between(2_500, 25_000))
            .order_by(Town.population.desc(), Town.insee).limit(8)
        )
    return towns


def _network(slug: str, name: str, description: str) -> Network:
    network = session.scalar(sa.select(Network).where(Network.slug == slug))
    if network is None:
        network = Network(slug=slug, name=name, description=description)
        session.add(network)
        session.flush()
    return network


def _member(network: Network, town: Town, since: int) -> None:
    if session.get(NetworkMembership, (network.id, town.insee)) is None:
        session.add(NetworkMembership(network_id=network.id, town_insee=town.insee,
                                      since_year=since))


def _label(town: Town, year: int, level: int) -> None:
    exists = session.scalar(sa.select(LabelAward.id).where(LabelAward.town_insee == town.insee,
                                                           LabelAward.year == year))
    if exists is None:
        session.add(LabelAward(town_insee=town.insee, year=year, level=level))


def _ensure(person: DemoPerson) -> None:
    if user_by_email(person.email) is not None:
        return
    user = accounts.create_user(person.email, person.name, PASSWORD, is_admin=person.admin,
                                is_moderator=person.moderator, confirmed=True)
    if person.town is not None and person.role is not None:
        membership = accounts.join_town(user, person.town.insee, person.role)
        if person.verified:
            accounts.verify_membership(membership, user_by_email("admin@maillage.localhost"),
                                       VerificationSource.ADMIN)
    if person.expertise:
        accounts.set_expertise(user, person.expertise)
