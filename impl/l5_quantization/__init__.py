"""Lesson 5: quantization and compression: int8 arithmetic, TFLite and ONNX post-training quantization, QAT.

Pretrained ResNet/MobileNet weights and COCO cannot be had offline, so the lesson's models are small
ResNet-style and MobileNetV2-style networks trained from scratch on real MNIST (`mnist5k`) by its DVC stages.
"""

__all__: list[str] = []  # the API is in the modules
