"""Demo data of works: nothing is made up (a work needs a real photo); this tells how to post one."""

from django.conf import settings


def load() -> list[str]:
    base = settings.PUBLIC_BASE_URL
    return [
        "Works: post a photo and get a song (log in first for an access token): "
        f'curl -H "Authorization: Bearer <accessToken>" -F image=@photo.jpg -F title=海边 {base}/api/works '
        f"— the public feed is {base}/api/works, a finished work's share page {base}/w/<id>",
    ]
