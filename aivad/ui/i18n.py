"""Every string the window shows, in English and Korean.

Kept as plain tables (not Qt's .ts/.qm files) so a translator edits Python files and nothing
needs compiling: this one, and aivad.ui.status_strings for the sources' and cameras' states.
``tr(key, **values)`` formats with str.format.
"""

from __future__ import annotations

from aivad.ui.status_strings import STATUS_STRINGS

LANGUAGES = {"en": "English", "ko": "한국어"}

_current = "en"

STRINGS: dict[str, dict[str, str]] = {
    # window and menus
    "app_title": {"en": "AI-VAD live monitor", "ko": "AI-VAD 실시간 이상 탐지"},
    "menu_file": {"en": "&File", "ko": "파일(&F)"},
    "menu_source": {"en": "&Source", "ko": "소스(&S)"},
    "menu_view": {"en": "&View", "ko": "보기(&V)"},
    "menu_device": {"en": "&Device", "ko": "장치(&D)"},
    "menu_language": {"en": "&Language", "ko": "언어(&L)"},
    "menu_help": {"en": "&Help", "ko": "도움말(&H)"},
    "act_open_video": {"en": "Open video file…", "ko": "동영상 파일 열기…"},
    "act_open_camera": {"en": "Camera", "ko": "카메라"},
    "act_scan_cameras": {"en": "Scan for cameras", "ko": "카메라 검색"},
    "act_no_cameras": {"en": "No camera found", "ko": "카메라를 찾지 못했습니다"},
    "act_scanning": {"en": "Scanning…", "ko": "검색 중…"},
    "act_camera_n": {"en": "Camera {index}", "ko": "카메라 {index}"},
    "act_open_url": {"en": "Open stream URL (RTSP/HTTP)…", "ko": "스트림 URL 열기 (RTSP/HTTP)…"},
    "act_recent": {"en": "Recent", "ko": "최근 항목"},
    "act_load_checkpoint": {"en": "Load checkpoint…", "ko": "체크포인트 불러오기…"},
    "act_output_folder": {"en": "Event folder…", "ko": "이벤트 저장 폴더…"},
    "act_open_output": {"en": "Open event folder", "ko": "이벤트 폴더 열기"},
    "act_export_csv": {"en": "Export events to CSV…", "ko": "이벤트 CSV로 내보내기…"},
    "act_screenshot": {"en": "Save window screenshot…", "ko": "창 스크린샷 저장…"},
    "act_quit": {"en": "Quit", "ko": "종료"},
    "act_play": {"en": "Play / pause", "ko": "재생 / 일시정지"},
    "act_step_forward": {"en": "Next frame", "ko": "다음 프레임"},
    "act_step_back": {"en": "Previous frame", "ko": "이전 프레임"},
    "act_jump_forward": {"en": "Forward 5 s", "ko": "5초 앞으로"},
    "act_jump_back": {"en": "Back 5 s", "ko": "5초 뒤로"},
    "act_every_frame": {"en": "Analyse every frame", "ko": "모든 프레임 분석"},
    "act_boxes": {"en": "Region boxes", "ko": "영역 상자"},
    "act_heatmap": {"en": "Heat map", "ko": "히트맵"},
    "act_edit_mask": {"en": "Draw ignore zones", "ko": "무시 영역 그리기"},
    "act_clear_mask": {"en": "Clear zones", "ko": "영역 지우기"},
    "act_roi_mode": {"en": "Zones are the area to watch (ROI)", "ko": "영역만 감시 (ROI)"},
    "btn_boxes": {"en": "Boxes", "ko": "상자"},
    "btn_heatmap": {"en": "Heat map", "ko": "히트맵"},
    "btn_zones": {"en": "Zones", "ko": "영역"},
    "act_fullscreen": {"en": "Full screen", "ko": "전체 화면"},
    "act_device_auto": {"en": "Automatic (GPU if available)", "ko": "자동 (GPU 우선)"},
    "act_device_cpu": {"en": "CPU", "ko": "CPU"},
    "act_device_cuda": {"en": "GPU (CUDA)", "ko": "GPU (CUDA)"},
    "act_lang_system": {"en": "System language", "ko": "시스템 언어"},
    "act_shortcuts": {"en": "Keyboard shortcuts", "ko": "단축키"},
    "act_about": {"en": "About", "ko": "정보"},
    # panels
    "panel_model": {"en": "MODEL", "ko": "모델"},
    "panel_detection": {"en": "DETECTION", "ko": "탐지 설정"},
    "panel_events": {"en": "EVENTS", "ko": "이벤트"},
    "panel_display": {"en": "DISPLAY", "ko": "표시"},
    "no_checkpoint": {"en": "No checkpoint loaded", "ko": "체크포인트가 없습니다"},
    "no_checkpoint_hint": {
        "en": "Load a .ckpt (Ctrl+K) or drop it on the window.",
        "ko": ".ckpt 파일을 불러오거나 (Ctrl+K) 창에 끌어다 놓으세요.",
    },
    "model_backend": {"en": "Backend", "ko": "백엔드"},
    "model_trained_on": {"en": "Trained on", "ko": "학습 데이터"},
    "model_trained_value": {"en": "{videos} videos, {frames} frames", "ko": "영상 {videos}개, 프레임 {frames}개"},
    "model_trained_value_one": {"en": "1 video, {frames} frames", "ko": "영상 1개, 프레임 {frames}개"},
    "model_threshold": {"en": "Calibrated threshold", "ko": "보정된 임계값"},
    "model_device": {"en": "Device", "ko": "장치"},
    "model_created": {"en": "Created", "ko": "생성일"},
    "model_loading": {"en": "Loading {name}…", "ko": "{name} 불러오는 중…"},
    "threshold": {"en": "Threshold", "ko": "임계값"},
    "threshold_reset": {"en": "Reset", "ko": "초기화"},
    "expected_false_alarms": {
        "en": "≈ {rate} false alarms / hour on normal footage",
        "ko": "정상 영상에서 시간당 오경보 약 {rate}회",
    },
    "expected_false_alarms_extrapolated": {
        "en": "(extrapolated from {seconds} s of training footage: a guess; train on more to trust it)",
        "ko": "(학습 영상 {seconds}초에서 외삽한 추정치입니다. 신뢰하려면 더 긴 영상으로 학습하세요)",
    },
    "expected_false_alarms_floor": {
        "en": "(the rarest rate {seconds} s of training footage can count; train on more footage for fewer)",
        "ko": "(학습 영상 {seconds}초로 셀 수 있는 가장 낮은 빈도입니다. 더 줄이려면 더 긴 영상으로 학습하세요)",
    },
    "expected_false_alarms_unknown": {
        "en": "false-alarm rate unknown (checkpoint from an older version)",
        "ko": "오경보율 알 수 없음 (이전 버전 체크포인트)",
    },
    "threshold_reset_tip": {"en": "Back to the checkpoint's calibrated value", "ko": "체크포인트 보정값으로 되돌리기"},
    "smoothing": {"en": "Smoothing", "ko": "평활화"},
    "smoothing_tip": {
        "en": "Average the score over recent frames (Gaussian sigma, in frames). 0 = off.",
        "ko": "최근 프레임의 점수를 평균합니다 (가우시안 시그마, 프레임 단위). 0 = 끔.",
    },
    "hysteresis": {"en": "Hysteresis", "ko": "히스테리시스"},
    "hysteresis_tip": {
        "en": "An alarm ends only when the score falls this far below the threshold.",
        "ko": "점수가 임계값보다 이만큼 낮아져야 경보가 끝납니다.",
    },
    "min_duration": {"en": "Min. duration", "ko": "최소 지속"},
    "min_duration_tip": {
        "en": "Bursts shorter than this do not raise an alarm.",
        "ko": "이보다 짧은 변화는 경보를 울리지 않습니다.",
    },
    "merge_gap": {"en": "Merge gap", "ko": "병합 간격"},
    "merge_gap_tip": {
        "en": "An alarm that starts again this soon after the last one ended continues the same event.",
        "ko": "경보가 끝난 뒤 이 시간 안에 다시 울리면 같은 이벤트로 이어집니다.",
    },
    "frames_unit": {"en": " fr", "ko": " 프레임"},
    "seconds_unit": {"en": " s", "ko": " 초"},
    "save_events": {"en": "Save snapshot + clip", "ko": "스냅샷 + 클립 저장"},
    # state and stats
    "state_normal": {"en": "NORMAL", "ko": "정상"},
    "state_anomaly": {"en": "ANOMALY", "ko": "이상"},
    "state_idle": {"en": "NO MODEL", "ko": "모델 없음"},
    "state_waiting": {"en": "WAITING", "ko": "대기 중"},
    "score": {"en": "Score", "ko": "점수"},
    "stat_source_fps": {"en": "Source", "ko": "소스"},
    "stat_processed_fps": {"en": "Processed", "ko": "처리"},
    "stat_dropped": {"en": "Dropped", "ko": "누락"},
    "stat_latency": {"en": "Latency", "ko": "지연"},
    "fps": {"en": "{value:.1f} fps", "ko": "{value:.1f} fps"},
    "ms": {"en": "{value:.0f} ms", "ko": "{value:.0f} ms"},
    "driven_by": {"en": "Driven by {attribute}", "ko": "주 원인: {attribute}"},
    "attr_velocity": {"en": "velocity", "ko": "속도"},
    "attr_pose": {"en": "pose", "ko": "자세"},
    "attr_person": {"en": "person likeness", "ko": "사람 유사도"},
    "attr_shape": {"en": "outline", "ko": "윤곽"},
    "attr_appearance": {"en": "appearance", "ko": "외형"},
    "attr_geometry": {"en": "geometry", "ko": "위치·크기"},
    "attr_no picture": {"en": "no picture", "ko": "화면 없음"},  # an event's cause (aivad.model.alarm)
    # video area
    "drop_hint_title": {"en": "Open a video, a camera or a stream", "ko": "동영상, 카메라 또는 스트림을 여세요"},
    "drop_hint": {
        "en": "O: video file    U: stream URL    Ctrl+K: checkpoint\nor drop a video / .ckpt here",
        "ko": (
            "O: 동영상 파일    U: 스트림 URL    Ctrl+K: 체크포인트\n또는 동영상 / .ckpt 파일을 여기로 끌어다 놓으세요"
        ),
    },
    "mask_hint": {
        "en": (
            "Click to add points, double-click or Enter to close a zone, right-click a zone to delete it, "
            "Esc to finish."
        ),
        "ko": "클릭으로 점 추가, 더블클릭 또는 Enter로 영역 닫기, 영역 우클릭으로 삭제, Esc로 종료.",
    },
    "zones_count": {"en": "{count} ignore zones", "ko": "무시 영역 {count}개"},
    "roi_count": {"en": "{count} watch zones", "ko": "감시 영역 {count}개"},
    "chart_title": {"en": "Anomaly score", "ko": "이상 점수"},
    "chart_hint_seek": {"en": "click to seek · Shift+drag to select", "ko": "클릭하여 이동 · Shift+드래그로 구간 선택"},
    "chart_teach_range": {"en": "Not an anomaly: teach {span}", "ko": "이상 아님: {span} 구간 가르치기"},
    "chart_clear_selection": {"en": "Clear the selection", "ko": "선택 지우기"},
    "chart_select_hint": {
        "en": "Shift+drag over the chart to select a time range",
        "ko": "Shift+드래그로 차트에서 구간을 선택하세요",
    },
    "chart_threshold": {"en": "threshold {value:.2f}", "ko": "임계값 {value:.2f}"},
    # events
    "col_event": {"en": "#", "ko": "#"},
    "col_time": {"en": "Time", "ko": "시간"},
    "col_camera": {"en": "Camera", "ko": "카메라"},
    "filter_all_cameras": {"en": "All cameras", "ko": "모든 카메라"},
    "filter_all_causes": {"en": "All causes", "ko": "모든 원인"},
    # cameras and the grid
    "menu_cameras": {"en": "&Cameras", "ko": "카메라(&C)"},
    "act_add_camera": {"en": "Add camera…", "ko": "카메라 추가…"},
    "act_edit_camera": {"en": "Edit camera…", "ko": "카메라 편집…"},
    "act_remove_camera": {"en": "Remove camera", "ko": "카메라 제거"},
    "act_show_grid": {"en": "All cameras", "ko": "모든 카메라"},
    "act_layout_1": {"en": "Layout: one camera", "ko": "배치: 카메라 1대"},
    "act_layout_2x2": {"en": "Layout: 2 × 2", "ko": "배치: 2 × 2"},
    "act_layout_3x3": {"en": "Layout: 3 × 3", "ko": "배치: 3 × 3"},
    "camera_default_name": {"en": "Camera {number}", "ko": "카메라 {number}"},
    "camera_dialog_add": {"en": "Add camera", "ko": "카메라 추가"},
    "camera_dialog_edit": {"en": "Edit camera", "ko": "카메라 편집"},
    "camera_name": {"en": "Name", "ko": "이름"},
    "camera_source": {"en": "Source", "ko": "소스"},
    "camera_source_hint": {
        "en": "video file, webcam index (0, 1, …) or rtsp:// URL",
        "ko": "동영상 파일, 웹캠 번호 (0, 1, …) 또는 rtsp:// URL",
    },
    "camera_checkpoint": {"en": "Checkpoint", "ko": "체크포인트"},
    "camera_browse": {"en": "Browse…", "ko": "찾아보기…"},
    "camera_threshold_auto": {"en": "the checkpoint's", "ko": "체크포인트 값 사용"},
    "camera_enabled": {"en": "Watch this camera", "ko": "이 카메라 감시"},
    "camera_need_name": {"en": "Give the camera a name.", "ko": "카메라 이름을 입력하세요."},
    "camera_name_taken": {
        "en": "A camera named {name} already exists.",
        "ko": "{name} 이름의 카메라가 이미 있습니다.",
    },
    "camera_need_source": {
        "en": "Enter a video file, a webcam index or a stream URL.",
        "ko": "동영상 파일, 웹캠 번호 또는 스트림 URL을 입력하세요.",
    },
    "camera_checkpoint_missing": {
        "en": "Checkpoint not found: {path}",
        "ko": "체크포인트를 찾을 수 없습니다: {path}",
    },
    "tile_alarm": {"en": "ALARM", "ko": "경보"},
    "tile_disabled": {"en": "Off", "ko": "꺼짐"},
    "tile_no_source": {"en": "No source", "ko": "소스 없음"},
    "tile_no_model": {"en": "no model", "ko": "모델 없음"},
    "tile_dropped": {"en": "{count} dropped", "ko": "{count} 누락"},
    "tile_reconnecting": {
        "en": "Reconnecting in {seconds:.0f} s (attempt {attempt})",
        "ko": "{seconds:.0f}초 후 재연결 ({attempt}번째)",
    },
    "tile_failed": {"en": "Failed: {detail}", "ko": "실패: {detail}"},
    "tile_add": {"en": "+  Add camera", "ko": "+  카메라 추가"},
    "col_peak": {"en": "Peak", "ko": "최대"},
    "col_cause": {"en": "Cause", "ko": "원인"},
    "event_ongoing": {"en": "ongoing", "ko": "진행 중"},
    "event_time_range": {"en": "{start}–{end}", "ko": "{start}–{end}"},
    "events_empty": {"en": "No events yet", "ko": "아직 이벤트가 없습니다"},
    "events_count": {"en": "{count} events", "ko": "이벤트 {count}건"},
    "events_count_one": {"en": "1 event", "ko": "이벤트 1건"},
    "export_csv": {"en": "Export CSV", "ko": "CSV 내보내기"},
    "open_folder": {"en": "Folder", "ko": "폴더"},
    "clear_events": {"en": "Clear", "ko": "지우기"},
    # teaching normal (aivad.ui.window_teach)
    "teach_not_anomaly": {"en": "Not an anomaly", "ko": "이상 아님"},
    "teach_tooltip": {
        "en": "Teach the camera's model that this stretch is normal (a new checkpoint; Undo returns to this one)",
        "ko": "이 구간이 정상이라고 카메라의 모델에 가르칩니다 (새 체크포인트, 되돌리기로 지금 것으로 돌아감)",
    },
    "teach_undo": {"en": "Undo", "ko": "되돌리기"},
    "event_taught": {"en": "taught normal", "ko": "정상으로 학습"},
    "teach_running": {"en": "Teaching the model… ({name})", "ko": "모델에 가르치는 중… ({name})"},
    "teach_done": {"en": "Taught: the camera now uses {name}", "ko": "학습함: 카메라가 이제 {name} 을(를) 씁니다"},
    "teach_undone": {"en": "Undone: the camera uses {name} again", "ko": "되돌림: 카메라가 다시 {name} 을(를) 씁니다"},
    "teach_failed": {"en": "Teaching failed: {message}", "ko": "가르치지 못했습니다: {message}"},
    "teach_busy": {
        "en": "Still teaching the last event; try again when it is done.",
        "ko": "앞의 사건을 아직 가르치는 중입니다. 끝나면 다시 하세요.",
    },
    "teach_ongoing": {"en": "Wait until the event has ended, then teach it.", "ko": "사건이 끝난 뒤에 가르치세요."},
    "teach_not_file": {
        "en": "Only an event of a video file, on a camera with a checkpoint, can be taught here; teach a recording "
        "with python -m aivad teach.",
        "ko": "체크포인트가 있는 카메라의 동영상 파일 사건만 여기서 가르칠 수 있습니다. 녹화본은 python -m aivad teach "
        "로 가르치세요.",
    },
    "event_open_clip": {"en": "Open clip", "ko": "클립 열기"},
    "event_open_snapshot": {"en": "Open snapshot", "ko": "스냅샷 열기"},
    "event_seek": {"en": "Jump to event", "ko": "이벤트로 이동"},
    "csv_saved": {"en": "Saved {count} events to {path}", "ko": "이벤트 {count}건을 {path}에 저장했습니다"},
    "event_saved_status": {"en": "Event {number} saved: {path}", "ko": "이벤트 {number} 저장됨: {path}"},
    # event history (aivad/ui/history.py)
    "act_history": {"en": "Event history…", "ko": "이벤트 기록…"},
    "hist_title": {"en": "Event history", "ko": "이벤트 기록"},
    "hist_camera": {"en": "Camera", "ko": "카메라"},
    "hist_all_cameras": {"en": "All cameras", "ko": "모든 카메라"},
    "hist_attribute": {"en": "Cause", "ko": "원인"},
    "hist_all_attributes": {"en": "All causes", "ko": "모든 원인"},
    "hist_from": {"en": "From", "ko": "시작"},
    "hist_to": {"en": "To", "ko": "끝"},
    "hist_refresh": {"en": "Refresh", "ko": "새로 고침"},
    "hist_close": {"en": "Close", "ko": "닫기"},
    "hist_col_time": {"en": "Time", "ko": "시간"},
    "hist_col_camera": {"en": "Camera", "ko": "카메라"},
    "hist_col_duration": {"en": "Duration", "ko": "지속 시간"},
    "hist_col_peak": {"en": "Peak", "ko": "최대 점수"},
    "hist_col_cause": {"en": "Cause", "ko": "원인"},
    "hist_col_files": {"en": "Evidence", "ko": "증거 파일"},
    "hist_snapshot": {"en": "snapshot", "ko": "스냅샷"},
    "hist_clip": {"en": "clip", "ko": "클립"},
    "hist_empty": {"en": "No events match these filters", "ko": "조건에 맞는 이벤트가 없습니다"},
    "hist_count_limited": {
        "en": "Newest {count} events shown (the export includes all)",
        "ko": "최근 이벤트 {count}건 표시 (내보내기에는 모두 포함)",
    },
    "hist_open_failed": {
        "en": "Event history not opened: {message}",
        "ko": "이벤트 기록을 열지 못했습니다: {message}",
    },
    # webhook (aivad/webhook.py)
    "webhook_stats": {
        "en": "Webhook: {sent} sent, {failed} failed, {dropped} dropped",
        "ko": "웹훅: 전송 {sent}건, 실패 {failed}건, 버림 {dropped}건",
    },
    "webhook_error": {"en": "Webhook: {message}", "ko": "웹훅 오류: {message}"},
    "act_webhook": {"en": "Webhook…", "ko": "웹훅…"},
    "webhook_prompt": {
        "en": "Post every finished event as JSON to this URL (empty: off):",
        "ko": "끝난 이벤트마다 JSON 으로 보낼 주소 (비우면 끄기):",
    },
    "url_title": {"en": "Open stream", "ko": "스트림 열기"},
    "url_prompt": {
        "en": "RTSP or HTTP address, e.g. rtsp://user:password@192.168.0.10:554/stream1",
        "ko": "RTSP 또는 HTTP 주소, 예: rtsp://user:password@192.168.0.10:554/stream1",
    },
    "ckpt_failed": {"en": "Checkpoint not loaded: {message}", "ko": "체크포인트를 불러오지 못했습니다: {message}"},
    "ckpt_loaded": {"en": "Loaded {name} ({backend}, {device})", "ko": "{name} 불러옴 ({backend}, {device})"},
    "problem": {"en": "Problem: {message}", "ko": "문제: {message}"},
    "dismiss": {"en": "Dismiss", "ko": "닫기"},
    "filter_videos": {
        "en": "Videos (*.mp4 *.avi *.mkv *.mov *.m4v *.webm *.ts *.mpg);;All files (*)",
        "ko": "동영상 (*.mp4 *.avi *.mkv *.mov *.m4v *.webm *.ts *.mpg);;모든 파일 (*)",
    },
    "filter_ckpt": {"en": "Checkpoints (*.ckpt);;All files (*)", "ko": "체크포인트 (*.ckpt);;모든 파일 (*)"},
    "filter_csv": {"en": "CSV (*.csv)", "ko": "CSV (*.csv)"},
    "filter_png": {"en": "PNG image (*.png)", "ko": "PNG 이미지 (*.png)"},
    "shortcuts_text": {
        "en": (
            "Space\tplay / pause\n←  →\tprevious / next frame\nShift+←  →\tback / forward 5 s\n"
            "Home\tstart of the video\nO\topen video file\nU\topen stream URL\nCtrl+K\tload checkpoint\n"
            "[  ]\tlower / raise threshold\nB\tregion boxes\nH\theat map\nM\tdraw ignore zones\n"
            "E\texport events CSV\nF11\tfull screen\nCtrl+Q\tquit"
        ),
        "ko": (
            "Space\t재생 / 일시정지\n←  →\t이전 / 다음 프레임\nShift+←  →\t5초 뒤로 / 앞으로\n"
            "Home\t영상 처음으로\nO\t동영상 파일 열기\nU\t스트림 URL 열기\nCtrl+K\t체크포인트 불러오기\n"
            "[  ]\t임계값 낮추기 / 높이기\nB\t영역 상자\nH\t히트맵\nM\t무시 영역 그리기\n"
            "E\t이벤트 CSV 내보내기\nF11\t전체 화면\nCtrl+Q\t종료"
        ),
    },
    "about_text": {
        "en": (
            "AI-VAD live monitor\nAttribute-based video anomaly detection (velocity, pose, appearance) on "
            "your own footage."
        ),
        "ko": "AI-VAD 실시간 이상 탐지\n속도·자세·외형 속성 기반의 영상 이상 탐지를 직접 촬영한 영상에 적용합니다.",
    },
}


STRINGS.update(STATUS_STRINGS)


def set_language(code: str) -> None:
    global _current
    _current = code if code in LANGUAGES else "en"


def language() -> str:
    return _current


def system_language() -> str:
    """'ko' when the operating system speaks Korean, otherwise 'en'."""
    from PySide6.QtCore import QLocale

    locale = QLocale.system()
    if locale.language() == QLocale.Language.Korean:
        return "ko"
    if any(name.lower().startswith("ko") for name in locale.uiLanguages()):
        return "ko"
    return "en"


def tr(key: str, **values) -> str:
    entry = STRINGS.get(key)
    if entry is None:
        return key
    text = entry.get(_current) or entry["en"]
    return text.format(**values) if values else text


def attribute_name(attribute: str) -> str:
    return tr(f"attr_{attribute}") if f"attr_{attribute}" in STRINGS else attribute
