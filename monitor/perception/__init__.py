"""Perception, one frame at a time: search the frame for faces and follow them (detect, follow), align each face
(align), read its head pose (pose) and its expression (model, with its test-time views)."""
