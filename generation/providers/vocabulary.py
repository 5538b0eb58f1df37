"""The words and tables of moods and styles, shared by the music providers (the offline composer picks a mood and a
style from the request's words) and the vision providers (a photo is described in these moods and styles).

`MOODS`: mood → (valence -1..1, energy 0..1, keywords). `STYLES`: style → its idiom for the offline composer (tempo
range, instruments, patterns) and its keywords. The keys of both are the `mood` / `style` words of `MusicRequest`
and `ImageAnalysis`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# mood: (valence -1..1, energy 0..1, keywords)
MOODS: dict[str, tuple[float, float, tuple[str, ...]]] = {
    "happy": (
        0.8,
        0.65,
        (
            "happy",
            "joy",
            "cheer",
            "upbeat",
            "sunny",
            "bright",
            "fun",
            "快乐",
            "开心",
            "欢快",
            "轻快",
            "阳光",
            "愉快",
            "喜悦",
            "活泼",
            "晴",
        ),
    ),
    "energetic": (
        0.5,
        0.95,
        (
            "energetic",
            "energy",
            "power",
            "exciting",
            "dance",
            "party",
            "intense",
            "激情",
            "活力",
            "动感",
            "热血",
            "燃",
            "派对",
            "激昂",
            "奔跑",
        ),
    ),
    "calm": (
        0.3,
        0.2,
        (
            "calm",
            "peace",
            "relax",
            "chill",
            "soft",
            "gentle",
            "quiet",
            "sleep",
            "平静",
            "安静",
            "放松",
            "治愈",
            "温柔",
            "宁静",
            "舒缓",
            "慢",
        ),
    ),
    "sad": (
        -0.75,
        0.25,
        (
            "sad",
            "melanchol",
            "lonely",
            "blue",
            "tears",
            "cry",
            "rain",
            "悲伤",
            "伤感",
            "忧郁",
            "难过",
            "孤独",
            "眼泪",
            "离别",
            "思念",
            "雨",
        ),
    ),
    "dark": (-0.8, 0.55, ("dark", "myster", "night", "tense", "horror", "shadow", "神秘", "黑暗", "夜", "紧张", "暗")),
    "romantic": (0.45, 0.4, ("romantic", "love", "sweet", "heart", "浪漫", "爱", "甜蜜", "恋", "心动", "温暖")),
    "nostalgic": (-0.15, 0.35, ("nostalg", "memory", "memories", "retro", "old", "怀旧", "回忆", "从前", "童年", "旧")),
    "dreamy": (0.2, 0.3, ("dream", "float", "star", "space", "梦", "星", "漂浮", "月")),
    "epic": (0.1, 0.9, ("epic", "hero", "grand", "cinematic", "battle", "史诗", "宏大", "英雄", "壮阔", "战")),
}


@dataclass(frozen=True)
class Style:
    tempo: tuple[int, int]
    lead: str
    comp: str  # accompaniment pattern: pad, arp, block, alberti, power, stabs, jazz, broken
    comp_instrument: str
    bass: str  # bass pattern: pop, rock, offbeat, walking, trap, folk, whole, lofi
    bass_instrument: str
    drums: str  # drum pattern name, or "" for none
    pad: bool = False
    swing: float = 0.0  # delay of off-beat eighths, as a fraction of a sixteenth
    sevenths: bool = False
    reverb: float = 0.3
    keywords: tuple[str, ...] = field(default=())


STYLES: dict[str, Style] = {
    "pop": Style((96, 124), "lead", "arp", "piano", "pop", "bass_pluck", "pop", pad=True, keywords=("pop", "流行")),
    "rock": Style(
        (110, 148),
        "square",
        "power",
        "square",
        "rock",
        "bass_saw",
        "rock",
        reverb=0.2,
        keywords=("rock", "摇滚", "punk", "朋克", "metal", "金属"),
    ),
    "electronic": Style(
        (118, 130),
        "lead",
        "stabs",
        "pluck",
        "offbeat",
        "bass_saw",
        "four",
        pad=True,
        keywords=("electronic", "edm", "techno", "house", "synth", "dance", "电子", "舞曲", "电音"),
    ),
    "jazz": Style(
        (84, 128),
        "epiano",
        "jazz",
        "epiano",
        "walking",
        "bass_pluck",
        "jazz",
        swing=1.3,
        sevenths=True,
        keywords=("jazz", "swing", "bossa", "爵士", "蓝调", "blues"),
    ),
    "classical": Style(
        (66, 100),
        "piano",
        "alberti",
        "piano",
        "whole",
        "bass_sub",
        "",
        pad=False,
        reverb=0.45,
        keywords=("classical", "piano", "orchestra", "古典", "钢琴", "交响"),
    ),
    "lofi": Style(
        (70, 88),
        "epiano",
        "jazz",
        "epiano",
        "lofi",
        "bass_sub",
        "boombap",
        swing=1.0,
        sevenths=True,
        reverb=0.3,
        keywords=("lofi", "lo-fi", "低保真", "学习", "study"),
    ),
    "folk": Style(
        (88, 116),
        "flute",
        "broken",
        "pluck",
        "folk",
        "bass_pluck",
        "folk",
        keywords=("folk", "acoustic", "guitar", "country", "民谣", "吉他", "乡村"),
    ),
    "hiphop": Style(
        (82, 96),
        "bell",
        "pad",
        "epiano",
        "trap",
        "bass_808",
        "boombap",
        swing=0.8,
        sevenths=True,
        keywords=("hiphop", "hip-hop", "hip hop", "rap", "trap", "说唱", "嘻哈"),
    ),
    "ambient": Style(
        (60, 80),
        "bell",
        "pad",
        "pad",
        "whole",
        "bass_sub",
        "",
        pad=True,
        reverb=0.6,
        keywords=("ambient", "meditation", "atmospher", "氛围", "冥想", "轻音乐", "空灵"),
    ),
    "chinese": Style(
        (70, 104),
        "flute",
        "broken",
        "pluck",
        "folk",
        "bass_sub",
        "folk",
        reverb=0.45,
        keywords=("chinese", "guzheng", "oriental", "中国风", "古风", "国风", "古筝", "江南", "水墨"),
    ),
}
STYLE_LABELS = {
    "pop": {"zh": "流行", "en": "Pop"},
    "rock": {"zh": "摇滚", "en": "Rock"},
    "electronic": {"zh": "电子", "en": "Electronic"},
    "jazz": {"zh": "爵士", "en": "Jazz"},
    "classical": {"zh": "古典", "en": "Classical"},
    "lofi": {"zh": "Lo-fi", "en": "Lo-fi"},
    "folk": {"zh": "民谣", "en": "Folk"},
    "hiphop": {"zh": "嘻哈", "en": "Hip-Hop"},
    "ambient": {"zh": "氛围", "en": "Ambient"},
    "chinese": {"zh": "中国风", "en": "Chinese"},
}
DEFAULT_STYLE_FOR_MOOD = {
    "happy": ("pop", "folk"),
    "energetic": ("electronic", "rock"),
    "calm": ("lofi", "ambient"),
    "sad": ("classical", "lofi"),
    "dark": ("ambient", "hiphop"),
    "romantic": ("jazz", "pop"),
    "nostalgic": ("lofi", "folk"),
    "dreamy": ("ambient", "lofi"),
    "epic": ("classical", "rock"),
}
LEAD_KEYWORDS = {
    "piano": ("piano", "钢琴"),
    "pluck": ("guitar", "吉他", "guzheng", "古筝", "harp", "竖琴"),
    "strings": ("violin", "strings", "cello", "小提琴", "弦乐", "大提琴"),
    "flute": ("flute", "笛", "箫"),
    "square": ("8-bit", "8bit", "chiptune", "game", "像素", "游戏"),
    "bell": ("bell", "music box", "八音盒", "铃"),
}

TITLES = {
    "happy": ("晴天小调", "阳光正好", "轻快的风", "橘子汽水"),
    "energetic": ("追光", "心跳加速", "一路向前", "燃烧的夏天"),
    "calm": ("安静的午后", "慢慢来", "云的形状", "微风"),
    "sad": ("雨后的窗", "未寄出的信", "独白", "旧站台"),
    "dark": ("深夜独白", "迷雾", "夜行", "暗涌"),
    "romantic": ("心动时刻", "晚风与你", "温柔的光", "月色真美"),
    "nostalgic": ("旧时光", "老街的黄昏", "回忆录", "夏天的尾巴"),
    "dreamy": ("梦里的星光", "漂浮", "月光信笺", "星河"),
    "epic": ("远征", "破晓", "山海", "黎明之前"),
}
