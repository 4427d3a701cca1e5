"""Who may use the developer portal: members of one group, named here only.

The `0009_developer_portal` migration creates the group; an administrator adds
people to it in the admin (docs/operating.md).
"""

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

DEVELOPERS = "developers"


def is_developer(user: AbstractBaseUser | AnonymousUser) -> bool:
    """Whether `user` is signed in and in the developers group.

    Asked once per user object: a request's view and its page's nav share the answer.
    """
    if not user.is_authenticated:
        return False
    if not hasattr(user, "_is_developer"):
        user._is_developer = user.groups.filter(name=DEVELOPERS).exists()
    return user._is_developer
