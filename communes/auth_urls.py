from django.contrib.auth import views as auth_views
from django.urls import path

from communes import accounts, login_throttle, oidc, second_factor, signup

urlpatterns = [
    # The password, then (for officials who sign) the code of their authenticator app; when
    # configured, the page also offers the province's identity provider (communes.oidc).
    # Failed passwords are counted per account and per address (communes.login_throttle).
    path("login/", oidc.LoginView.as_view(authentication_form=login_throttle.LoginForm), name="login"),
    # Citizens create their own account.
    path("signup/", signup.signup, name="signup"),
    path("signup/confirm/", signup.signup_confirm, name="signup_confirm"),
    path("2fa/", login_throttle.second_factor_throttled(second_factor.second_factor_view), name="second_factor"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password/change/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path("password/change/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    # The e-mailed link comes from the site's configured address, never the request's Host.
    path("password/reset/", accounts.PasswordResetView.as_view(), name="password_reset"),
    path("password/reset/done/", auth_views.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path("password/reset/<uidb64>/<token>/", accounts.PasswordResetConfirmView.as_view(), name="password_reset_confirm"),
    path("password/reset/complete/", auth_views.PasswordResetCompleteView.as_view(), name="password_reset_complete"),
]
