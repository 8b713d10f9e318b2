"""factory_boy factories for the annotator data model."""

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from annotator import models, roles

#: Every factory-made user's password, for tests that log in with it.
PASSWORD = "pw-secret-123"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def role(self, create, extracted, **kwargs):
        if create and extracted:
            group, _ = Group.objects.get_or_create(name=extracted)
            self.groups.add(group)
        if create:
            self.save()


def make_user(*, role: str | None = None, username: str | None = None):
    """A user in the role's group; without a username the factory numbers one."""
    if username is None:
        return UserFactory(role=role)
    return UserFactory(role=role, username=username)


def make_rater(*, username: str | None = None):
    return make_user(role=roles.RATER, username=username)


def make_researcher(*, username: str | None = None):
    return make_user(role=roles.RESEARCHER, username=username)


class TaxonomyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Taxonomy

    name = factory.Sequence(lambda n: f"taxonomy{n}")


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Category

    taxonomy = factory.SubFactory(TaxonomyFactory)
    name = factory.Sequence(lambda n: f"class {n}")
    index = factory.Sequence(lambda n: n)


class DatasetFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Dataset

    name = factory.Sequence(lambda n: f"dataset{n}")
    taxonomy = factory.SubFactory(TaxonomyFactory)


class ClipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Clip

    dataset = factory.SubFactory(DatasetFactory)
    clip_id = factory.Sequence(lambda n: f"clip{n:05d}")
    split = "test"


class ProposalSetFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.ProposalSet

    dataset = factory.SubFactory(DatasetFactory)
    name = factory.Sequence(lambda n: f"proposals{n}")
    source = models.ProposalSet.Source.FILE


class ProposalFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Proposal

    proposal_set = factory.SubFactory(ProposalSetFactory)
    clip = factory.SubFactory(ClipFactory)
    category = factory.SubFactory(CategoryFactory)
    score = 0.5
    heads = factory.LazyFunction(lambda: ["continuous"])
