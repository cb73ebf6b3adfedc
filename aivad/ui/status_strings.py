"""What the window says about its sources and cameras, in English and Korean (merged into aivad.ui.i18n.STRINGS).

Kept apart from the window's other strings so each table stays one concern: here, the state of a source
(live, reconnecting, failed) and what the camera itself does (FrameResult.camera: aivad.live.camera_notes).
"""

from __future__ import annotations

STATUS_STRINGS: dict[str, dict[str, str]] = {
    # source status
    "src_opening": {"en": "Opening…", "ko": "여는 중…"},
    "src_playing": {"en": "Playing", "ko": "재생 중"},
    "src_live": {"en": "● Live", "ko": "● 실시간"},
    "src_paused": {"en": "Paused", "ko": "일시정지"},
    "src_ended": {"en": "End of video", "ko": "영상 끝"},
    "src_reconnecting": {
        "en": "Connection to {label} lost ({detail}). Reconnecting in {seconds:.0f} s (attempt {attempt})…",
        "ko": "{label} 연결이 끊겼습니다 ({detail}). {seconds:.0f}초 후 다시 연결합니다 ({attempt}번째 시도)…",
    },
    "src_failed": {"en": "Cannot read {label}: {detail}", "ko": "{label}을(를) 읽을 수 없습니다: {detail}"},
    "src_missing": {"en": "File not found: {path}", "ko": "파일을 찾을 수 없습니다: {path}"},
    "src_camera_failed": {
        "en": "Camera {label} did not deliver frames. Is it in use by another program?",
        "ko": "{label}에서 영상이 오지 않습니다. 다른 프로그램이 사용 중인지 확인하세요.",
    },
    "size_differs": {
        "en": (
            "This checkpoint was trained on {trained} video, this source is {size}: scores may not match "
            "the calibrated threshold."
        ),
        "ko": (
            "이 체크포인트는 {trained} 영상으로 학습되었고 현재 소스는 {size}입니다. "
            "점수가 보정된 임계값과 맞지 않을 수 "
            "있습니다."
        ),
    },
    "size_scaled": {
        "en": (
            "This checkpoint was trained on {trained} video, this source is {size}: its frames are scaled to "
            "{trained} before scoring. A smaller picture shows less: train on this stream for the best results."
        ),
        "ko": (
            "이 체크포인트는 {trained} 영상으로 학습되었고 현재 소스는 {size}입니다: 점수를 매기기 전에 프레임을 "
            "{trained}(으)로 맞춥니다. 작은 화면은 덜 보여 주므로 이 스트림으로 학습하면 가장 좋습니다."
        ),
    },
    "rate_stepped": {
        "en": (
            "The source runs at {fps:.0f} fps, the training footage at {trained:.0f} fps: one frame in {step} is "
            "scored, against the frame {step} before it (the training's time step)."
        ),
        "ko": (
            "소스는 {fps:.0f} fps, 학습 영상은 {trained:.0f} fps 입니다: {step} 프레임마다 하나를 {step} 프레임 "
            "앞의 프레임과 비교해 점수를 매깁니다(학습 때와 같은 시간 간격)."
        ),
    },
    "rate_slower": {
        "en": (
            "The source runs at {fps:.0f} fps, slower than the training footage's {trained:.0f} fps: things look "
            "faster than they are. Train on footage at this frame rate."
        ),
        "ko": (
            "소스는 {fps:.0f} fps 로 학습 영상의 {trained:.0f} fps 보다 느립니다: 움직임이 실제보다 빨라 보입니다. "
            "이 프레임 속도의 영상으로 학습하세요."
        ),
    },
    # what the camera itself does (FrameResult.camera), painted on the picture
    "camera_shaking": {
        "en": "Camera shaking: its motion is taken out of the scores",
        "ko": "카메라 흔들림: 카메라 자체의 움직임은 점수에서 제외됩니다",
    },
    "camera_exposure": {
        "en": "Camera exposure changed: taken out of the scores",
        "ko": "카메라 밝기 변화: 점수에서 제외됩니다",
    },
    "camera_no_picture": {
        "en": "No picture: lens covered or no signal",
        "ko": "화면 없음: 렌즈가 가려졌거나 신호가 없습니다",
    },
    "camera_view_changed": {
        "en": "View differs from the training footage: check the camera or retrain",
        "ko": "화면이 학습 영상과 다릅니다: 카메라를 확인하거나 다시 학습하세요",
    },
    "camera_other": {"en": "Camera: {state}", "ko": "카메라: {state}"},
}
