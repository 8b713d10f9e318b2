"""Name a dataset's owner and the researchers it is shared with."""

from django.core.management.base import BaseCommand, CommandError

from annotator import selectors, services
from config.errors import ApplicationError


class Command(BaseCommand):
    help = (
        "Share a dataset with researchers (--with USER ...), or give it an owner (--owner USER; it replaces "
        "the current one). A researcher sees and uses the datasets they own or that are shared with them; "
        "admins see every dataset, and a dataset without an owner is for admins only. The owner can also "
        'share through the API: POST /api/datasets/<id>/share/ {"researchers": [usernames]}.'
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--dataset", required=True, help="dataset name")
        parser.add_argument("--owner", default="", metavar="USERNAME", help="researcher who owns the dataset")
        parser.add_argument(
            "--with", dest="share_with", nargs="+", default=[], metavar="USERNAME", help="researchers to share with"
        )

    def handle(self, *args, **options) -> None:
        if not options["owner"] and not options["share_with"]:
            raise CommandError("name an --owner, researchers to share --with, or both")
        try:
            dataset = selectors.dataset_get_by_name(name=options["dataset"])
            if options["owner"]:
                owner = selectors.researcher_get(username=options["owner"])
                services.dataset_owner_set(dataset=dataset, owner=owner, replace=True)
            researchers = [selectors.researcher_get(username=name) for name in options["share_with"]]
            services.dataset_share(dataset=dataset, researchers=researchers)
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc
        shared = ", ".join(sorted(dataset.shared_with.values_list("username", flat=True))) or "nobody"
        self.stdout.write(
            f"dataset {dataset.name}: owner {dataset.owner or 'none (admins only)'}, shared with {shared}"
        )
