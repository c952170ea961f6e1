from django.contrib.auth import views as auth_views
from django.urls import path

from communes import oidc, second_factor, signup

urlpatterns = [
    # The password, then (for officials who sign) the code of their authenticator app; when
    # configured, the page also offers the province's identity provider (communes.oidc).
    path("login/", oidc.LoginView.as_view(), name="login"),
    # Citizens create their own account.
    path("signup/", signup.signup, name="signup"),
    path("2fa/", second_factor.second_factor_view, name="second_factor"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password/change/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path("password/change/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("password/reset/", auth_views.PasswordResetView.as_view(), name="password_reset"),
    path("password/reset/done/", auth_views.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path("password/reset/<uidb64>/<token>/", auth_views.PasswordResetConfirmView.as_view(), name="password_reset_confirm"),
    path("password/reset/complete/", auth_views.PasswordResetCompleteView.as_view(), name="password_reset_complete"),
]
