"""Regions, centres agréés, sites liés and imports, moved here from the back-office.

State only: the tables and their rows already exist, made by the back-office's migrations 0001
to 0003. `backoffice.0004_perimeter_to_centres`, which depends on this migration, renames them
to `centres_*` and makes the back-office's models point to these.
"""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('companies', '0001_initial'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='Region',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('code', models.CharField(max_length=8, unique=True)),
                        ('name', models.CharField(max_length=128)),
                    ],
                    options={
                        'ordering': ['name'],
                    },
                ),
                migrations.CreateModel(
                    name='CentreImport',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
                        ('filename', models.CharField(blank=True, max_length=255)),
                        ('encoding', models.CharField(blank=True, max_length=16)),
                        ('line_count', models.PositiveIntegerField(default=0)),
                        ('created_by', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'ordering': ['-created_at'],
                    },
                ),
                migrations.CreateModel(
                    name='Centre',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('agrement_reference', models.CharField(blank=True, max_length=64, verbose_name='référence de l’agrément')),
                        ('agrement_date', models.DateField(blank=True, null=True, verbose_name='date de l’agrément')),
                        ('contact_email', models.EmailField(blank=True, max_length=254, verbose_name='adresse électronique de contact')),
                        ('letter_name', models.CharField(max_length=255, verbose_name='nom du destinataire')),
                        ('letter_address', models.TextField(verbose_name='adresse postale')),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('closed_at', models.DateTimeField(blank=True, null=True)),
                        ('closed_reason', models.CharField(blank=True, max_length=255)),
                        ('created_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('establishment', models.OneToOneField(on_delete=django.db.models.deletion.PROTECT, related_name='centre', to='companies.establishment')),
                        ('region', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='centres', to='centres.region')),
                        ('imported_in', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='centres', to='centres.centreimport')),
                    ],
                    options={
                        'ordering': ['letter_name'],
                    },
                ),
                migrations.CreateModel(
                    name='LinkedSite',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('label', models.CharField(blank=True, max_length=255, verbose_name='nom')),
                        ('address', models.TextField(blank=True, verbose_name='adresse')),
                        ('centre', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='sites', to='centres.centre')),
                        ('establishment', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='linked_to', to='companies.establishment')),
                    ],
                    options={
                        'constraints': [models.UniqueConstraint(fields=('centre', 'establishment'), name='linked_site_unique')],
                    },
                ),
            ],
        ),
    ]
