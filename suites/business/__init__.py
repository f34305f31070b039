"""Phase suite: business."""
