"""Lesson 5: Quantization and compression: int8 arithmetic, TFLite and ONNX post-training quantization, QAT, MobileNet-style sizes.

Pretrained ResNet/MobileNet weights and COCO cannot be had offline: the lesson's models are small ResNet-style and
MobileNetV2-style networks trained from scratch on real MNIST (the mnist5k split) by DVC stages."""
