"""Policy as code: severity scheme, impact matrix, cadences, roles and resolution conditions."""
