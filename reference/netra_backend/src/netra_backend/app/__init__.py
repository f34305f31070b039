"""The application package; module paths follow the seed document."""
