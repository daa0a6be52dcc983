"""Raw leads -> fit and intent features (featurizer, job titles, leakage audit)."""
