import factory
from django.core.files.base import ContentFile
from django.utils import timezone

from accounts.tests.factories import UserFactory
from generation.models import Generation


class GenerationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Generation

    user = factory.SubFactory(UserFactory)
    prompt = factory.Sequence(lambda n: f"一首轻快的流行歌曲 {n}")
    style = "pop"
    mood = "happy"


def complete(generation: Generation, *, title: str = "晴天", duration: float = 30.0) -> Generation:
    """Give a generation stored files and mark it completed, as the pipeline does."""
    generation.audio.save("song.mp3", ContentFile(b"ID3-fake-128"), save=False)
    generation.audio_hq.save("song.mp3", ContentFile(b"ID3-fake-320"), save=False)
    generation.cover.save("cover.jpg", ContentFile(b"jpeg"), save=False)
    generation.result_title = title
    generation.result_duration = duration
    generation.status = Generation.Status.COMPLETED
    generation.completed_at = timezone.now()
    generation.save()
    return generation
