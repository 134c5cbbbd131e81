# A few names in the shape of Faker's en_US person provider (test fixture).
class Provider(PersonProvider):
    first_names_female = OrderedDict((
        ('Mary', 0.02),
        ('Patricia', 0.01),
    ))
    last_names = OrderedDict((
        ('Smith', 0.0217),
        ('Johnson', 0.0169),
    ))
