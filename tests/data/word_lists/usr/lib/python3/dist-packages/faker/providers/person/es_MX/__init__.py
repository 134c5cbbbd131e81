# A few names in the shape of Faker's es_MX person provider (test fixture).
class Provider(PersonProvider):
    first_names = ('Guadalupe', 'Ximena')
    last_names = ('Hernández', 'Zavala')
