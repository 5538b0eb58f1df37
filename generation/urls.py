from django.urls import path

from . import apis

urlpatterns = [
    path("generation/create", apis.GenerationCreateApi.as_view(), name="generation-create"),
    path("generation/favorites/list", apis.FavoriteListApi.as_view(), name="generation-favorites"),
    path("generation", apis.GenerationListApi.as_view(), name="generation-list"),
    path("generation/callback/<str:provider>", apis.ProviderCallbackApi.as_view(), name="generation-callback"),
    path("generation/<str:generation_id>", apis.GenerationDetailApi.as_view(), name="generation-detail"),
    path("generation/<str:generation_id>/favorite", apis.FavoriteToggleApi.as_view(), name="generation-favorite"),
    path("music/tasks", apis.MusicTaskCreateApi.as_view(), name="music-task-create"),
    path("music/tasks/<str:task_id>", apis.MusicTaskDetailApi.as_view(), name="music-task-detail"),
]
