"""On-call schedules: rotations in layers, overrides, hand-off notes and iCal feeds."""
