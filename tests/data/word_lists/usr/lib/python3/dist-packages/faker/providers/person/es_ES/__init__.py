# A few names in the shape of Faker's es_ES person provider (test fixture).
class Provider(PersonProvider):
    first_names_male = ('Antonio', 'José María', 'Juan')
    first_names_female = ('Ana', 'Lucía', 'María')
    first_names = first_names_male + first_names_female
    last_names = ('Castaño', 'García', 'Herrera')
