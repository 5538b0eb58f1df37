"""The offline vision provider: describes a photo from its pixels alone.

Brightness, warmth, saturation and contrast choose a mood and a style (bright and warm → happy pop, dark and cool →
a slow minor piece, …); the palette's hues suggest a scene (sky, sea, sunset, forest, night) for the tags and the
title; a short Chinese description says what was measured. Deterministic: the same photo, the same answer.
"""

from __future__ import annotations

import hashlib

from .base import ImageAnalysis
from .imagestats import PixelStats, decode_image, measure

MOOD_ZH = {
    "happy": "欢快",
    "energetic": "活力",
    "calm": "宁静",
    "sad": "忧郁",
    "dark": "神秘",
    "romantic": "浪漫",
    "nostalgic": "怀旧",
    "dreamy": "梦幻",
    "epic": "壮阔",
}
STYLE_ZH = {
    "pop": "流行",
    "rock": "摇滚",
    "electronic": "电子",
    "jazz": "爵士",
    "classical": "古典钢琴",
    "lofi": "Lo-fi",
    "folk": "民谣",
    "hiphop": "嘻哈",
    "ambient": "氛围",
    "chinese": "中国风",
}

SCENE_TITLES = {
    "sky": ("天空之下", "云的形状", "晴空信笺"),
    "sea": ("海风", "潮汐", "蓝色海岸"),
    "sunset": ("落日余晖", "晚霞", "黄昏的车站"),
    "forest": ("林间小路", "森林的呼吸", "绿野"),
    "night": ("夜色温柔", "城市的夜", "星光"),
    "flower": ("花开的时候", "春日花园", "粉色的风"),
    "snow": ("雪落无声", "白色的冬天", "初雪"),
}
MOOD_TITLES = {
    "happy": ("晴天的旋律", "阳光正好", "轻快的风"),
    "energetic": ("追光的人", "心跳加速", "一路向前"),
    "calm": ("安静的午后", "慢慢来", "微风"),
    "sad": ("雨后的窗", "未寄出的信", "独白"),
    "dark": ("深夜独白", "迷雾", "夜行"),
    "romantic": ("心动时刻", "晚风与你", "温柔的光"),
    "nostalgic": ("旧时光", "老街的黄昏", "回忆录"),
    "dreamy": ("梦里的星光", "漂浮", "月光信笺"),
}
SCENE_ZH = {
    "sky": "天空",
    "sea": "大海",
    "sunset": "夕阳",
    "forest": "自然",
    "night": "夜晚",
    "flower": "花",
    "snow": "冬日",
}


def color_name(hue: float | None, lightness: float) -> str:
    """A Chinese colour word for a palette colour."""
    if hue is None:
        return "白色" if lightness > 0.8 else "黑色" if lightness < 0.2 else "灰色"
    degrees = hue * 360
    for limit, name in ((15, "红色"), (45, "橙色"), (70, "黄色"), (160, "绿色"), (200, "青色"), (260, "蓝色")):
        if degrees < limit:
            return name
    return "紫色" if degrees < 300 else "粉色" if degrees < 340 else "红色"


def _scene(stats: PixelStats) -> str | None:
    """A guess at what the photo shows, from where its main colours sit on the hue circle."""
    weights: dict[str, float] = {}
    for hue, light, share in zip(stats.hues, stats.lightness, stats.shares, strict=True):
        if hue is None:
            continue
        degrees = hue * 360
        if 190 <= degrees < 250:
            weights["sky" if light > 0.55 else "sea"] = weights.get("sky" if light > 0.55 else "sea", 0) + share
        elif 70 <= degrees < 170:
            weights["forest"] = weights.get("forest", 0) + share
        elif degrees < 50 or degrees >= 340:
            weights["sunset"] = weights.get("sunset", 0) + share
        elif 290 <= degrees < 340:
            weights["flower"] = weights.get("flower", 0) + share
    if stats.brightness < 0.28:
        return "night"
    if stats.brightness > 0.75 and stats.saturation < 0.12:
        return "snow"
    if not weights:
        return None
    scene, weight = max(weights.items(), key=lambda kv: (kv[1], kv[0]))
    return scene if weight >= 0.25 else None


def _mood(stats: PixelStats) -> str:
    bright, warm, sat, con = stats.brightness, stats.warmth, stats.saturation, stats.contrast
    if bright < 0.35:
        if warm > 0.06:
            return "romantic" if sat > 0.3 else "nostalgic"
        return "dark" if sat > 0.2 or con > 0.5 else "sad"
    if bright > 0.55:
        if warm > 0.04:
            return "energetic" if sat > 0.5 and con > 0.55 else "happy"
        return "dreamy" if sat < 0.15 else "calm"
    if warm > 0.08:
        return "nostalgic" if sat < 0.35 else "happy"
    if warm < -0.08:
        return "sad" if sat < 0.2 else "calm"
    return "energetic" if sat > 0.55 and con > 0.6 else "calm"


def _style(mood: str, stats: PixelStats, scene: str | None) -> str:
    if scene == "forest" and mood in ("calm", "happy", "nostalgic"):
        return "folk"
    return {
        "happy": "pop",
        "energetic": "rock" if stats.contrast > 0.7 else "electronic",
        "calm": "ambient" if stats.contrast < 0.35 else "lofi",
        "sad": "classical",
        "dark": "ambient" if stats.contrast < 0.5 else "hiphop",
        "romantic": "jazz",
        "nostalgic": "lofi",
        "dreamy": "ambient",
    }.get(mood, "pop")


def analyse_pixels(stats: PixelStats, *, fingerprint: str) -> ImageAnalysis:
    """Words for a photo's measured pixels. `fingerprint` picks among equivalent titles deterministically."""
    scene = _scene(stats)
    mood = _mood(stats)
    style = _style(mood, stats, scene)
    pick = int(fingerprint[:8], 16)
    titles = SCENE_TITLES.get(scene or "", ()) or MOOD_TITLES[mood]
    title = titles[pick % len(titles)]

    light_word = "明亮" if stats.brightness > 0.62 else "柔和" if stats.brightness > 0.38 else "昏暗"
    warm_word = "温暖" if stats.warmth > 0.06 else "清冷" if stats.warmth < -0.06 else "素净"
    colors = []
    for hue, lightness in zip(stats.hues, stats.lightness, strict=True):
        name = color_name(hue, lightness)
        if name not in colors:
            colors.append(name)
    main_colors = "与".join(colors[:2]) or "中性色"
    contrast_phrase = "明暗对比强烈" if stats.contrast > 0.6 else "光线柔和均匀" if stats.contrast < 0.3 else "层次分明"
    scene_phrase = f"，像是{SCENE_ZH[scene]}的画面" if scene else ""
    description = (
        f"一张{light_word}、{warm_word}的照片，主色调是{main_colors}，{contrast_phrase}{scene_phrase}。"
        f"画面带着{MOOD_ZH[mood]}的气息，适合配一首{STYLE_ZH[style]}风格的曲子。"
    )
    tags = []
    for tag in (
        MOOD_ZH[mood],
        light_word,
        warm_word,
        SCENE_ZH.get(scene or ""),
        STYLE_ZH[style],
        colors[0] if colors else None,
    ):
        if tag and tag not in tags:
            tags.append(tag)
    return ImageAnalysis(
        description=description,
        mood=mood,
        style=style,
        tags=tuple(tags[:6]),
        title=title,
        lyrics=None,
        palette=stats.palette,
        brightness=stats.brightness,
        warmth=stats.warmth,
        saturation=stats.saturation,
        contrast=stats.contrast,
    )


class LocalVisionProvider:
    """VisionProvider that needs no network: Pillow + numpy on the photo's pixels."""

    name = "local"

    def describe(self, image_bytes: bytes, content_type: str = "") -> ImageAnalysis:
        image = decode_image(image_bytes)  # ProviderRejected when it is not an image
        stats = measure(image)
        return analyse_pixels(stats, fingerprint=hashlib.sha256(image_bytes).hexdigest())
