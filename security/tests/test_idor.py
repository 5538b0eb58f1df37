"""IDOR sweep: every owner-only endpoint, called by another user with the owner's ids, refuses with a 404 (the
object's existence is not confirmed) and changes nothing."""

import pytest

from accounts.tests.clients import client_for
from accounts.tests.factories import UserFactory
from generation.models import Favorite, Generation
from generation.tests.factories import GenerationFactory
from payments.models import Order
from payments.tests.helpers import place_membership_order
from works.models import Work
from works.tests.factories import WorkFactory, complete

pytestmark = pytest.mark.django_db


@pytest.fixture
def owned(settings):
    """One of everything a user owns: a generation, a music task, a private and a public work, an order."""
    settings.PAYMENT_SANDBOX = True
    owner = UserFactory()
    client = client_for(owner)
    generation = GenerationFactory(user=owner)
    task = GenerationFactory(user=owner, source=Generation.Source.MUSIC_TASK)
    private = complete(WorkFactory(creator=owner, visibility=Work.Visibility.PRIVATE))
    public = complete(WorkFactory(creator=owner))
    order = place_membership_order(client)
    return {
        "owner": owner,
        "generation": generation,
        "task": task,
        "private": private,
        "public": public,
        "order": order,
    }


def snapshot():
    works = list(Work.objects.order_by("pk").values())
    return (
        list(Generation.objects.order_by("pk").values("pk", "status", "title")),
        list(Favorite.objects.values_list("user_id", "generation_id")),
        works,
        list(Order.objects.order_by("pk").values("pk", "status")),
    )


def sweep(owned):
    g, t = owned["generation"].pk, owned["task"].pk
    private, public = owned["private"].pk, owned["public"].pk
    order_no = owned["order"]["orderNo"]
    return [
        ("get", f"/api/generation/{g}", None),
        ("post", f"/api/generation/{g}/favorite", None),
        ("get", f"/api/music/tasks/{t}", None),
        ("get", f"/api/works/{private}", None),
        ("patch", f"/api/works/{private}", {"title": "taken"}),
        ("delete", f"/api/works/{private}", None),
        ("patch", f"/api/works/{public}", {"title": "taken"}),
        ("delete", f"/api/works/{public}", None),
        ("get", f"/api/membership/order/{order_no}", None),
        ("get", f"/api/payment/order/{order_no}/query", None),
    ]


@pytest.mark.parametrize("index", range(10))
def test_another_user_gets_404_and_changes_nothing(owned, index):
    method, path, body = sweep(owned)[index]
    intruder = client_for(UserFactory())
    before = snapshot()

    response = getattr(intruder, method)(path, body, format="json") if body else getattr(intruder, method)(path)

    payload = response.json()
    assert response.status_code == 404, (path, payload)
    assert payload["code"] in (404, 30000), payload
    assert snapshot() == before


def test_the_owner_reaches_every_one_of_them(owned):
    owner = client_for(owned["owner"])
    for method, path, _ in sweep(owned):
        if method == "get":
            assert owner.get(path).status_code == 200, path
