"""Review reports: seed 000's weekly and monthly reviews, built on the policy's schedule from
the metrics, post-mortems and action items, kept, and sent to the policy's recipients."""
