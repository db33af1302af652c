/*
 * test-tls-cert.c - the certificate files an admin finds on disk: the self-signed pair made
 * on first start (private, reused, about two years valid, made again when its key is lost,
 * never overwriting a file that is not ours) and the check of an admin-supplied pair.
 */
#include "test-http-support.h"

#include "http/tls-cert.h"
#include "lib/str.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

typedef struct fixture {
	char *dir;		 /* private test directory; the pair is in dir/tls */
	pp_tls_cert_info_t cert; /* the pair made by setup */
} fixture_t;

/* ---- fixture: a fresh self-signed pair, as the server makes on first start ---- */

static int setup(void **state)
{
	fixture_t *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	f->dir = test_tmpdir();
	test_http_cert_make(f->dir, &f->cert);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture_t *f = *state;
	test_rmtree(f->dir);
	free(f->dir);
	free(f);
	return 0;
}

/* ---- tests ---- */

static void test_certificate_reused_and_private(void **state)
{
	fixture_t *f = *state;
	assert_true(f->cert.is_new);
	assert_true(f->cert.is_self_signed_ours);
	assert_int_equal(strlen(f->cert.fingerprint_sha256), TLS_CERT_FINGERPRINT_LEN);

	char tls_dir[4096];
	char error[1024];
	assert_true(str_format(tls_dir, sizeof(tls_dir), "%s/tls", f->dir));
	pp_tls_cert_info_t again;
	assert_int_equal(tls_cert_ensure_self_signed(tls_dir, "printhost.example", &again, error,
						     sizeof(error)),
			 0);
	assert_false(again.is_new);
	assert_string_equal(again.fingerprint_sha256, f->cert.fingerprint_sha256);
	/* About two years of validity. */
	time_t now = time(NULL);
	assert_true(again.not_after > now + 700L * 24 * 3600);
	assert_true(again.not_after < now + 740L * 24 * 3600);

	struct stat st;
	assert_int_equal(stat(again.key_file, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(stat(tls_dir, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);

	/* The admin check accepts the pair as it is. */
	pp_tls_cert_info_t checked;
	assert_int_equal(tls_cert_check_pair(again.cert_file, again.key_file, &checked, error,
					     sizeof(error)),
			 0);
	assert_string_equal(checked.fingerprint_sha256, again.fingerprint_sha256);
	assert_false(checked.is_expired);
}

static void test_broken_certificates_are_named(void **state)
{
	fixture_t *f = *state;
	char error[1024];
	char other_dir[4096];
	assert_true(str_format(other_dir, sizeof(other_dir), "%s/other", f->dir));
	pp_tls_cert_info_t other;
	assert_int_equal(tls_cert_ensure_self_signed(other_dir, NULL, &other, error,
						     sizeof(error)),
			 0);
	assert_string_not_equal(other.fingerprint_sha256, f->cert.fingerprint_sha256);

	/* An admin pair whose certificate and key do not belong together. */
	pp_tls_cert_info_t info;
	assert_int_equal(tls_cert_check_pair(f->cert.cert_file, other.key_file, &info, error,
					     sizeof(error)),
			 -1);
	assert_non_null(strstr(error, f->cert.cert_file));
	assert_non_null(strstr(error, "does not belong"));

	/* Something that is not ours in the self-signed place: refused, named, untouched. */
	char cert_path[4096];
	assert_true(str_format(cert_path, sizeof(cert_path), "%s/cert.pem", other_dir));
	FILE *fp = fopen(cert_path, "w");
	assert_non_null(fp);
	assert_true(fputs("not a certificate\n", fp) >= 0);
	assert_int_equal(fclose(fp), 0);
	assert_int_equal(tls_cert_ensure_self_signed(other_dir, NULL, &info, error,
						     sizeof(error)),
			 -1);
	assert_non_null(strstr(error, cert_path));

	/* Our own certificate with a lost key is simply made again. */
	char key_path[4096];
	assert_true(str_format(key_path, sizeof(key_path), "%s/tls/key.pem", f->dir));
	assert_int_equal(unlink(key_path), 0);
	char tls_dir[4096];
	assert_true(str_format(tls_dir, sizeof(tls_dir), "%s/tls", f->dir));
	assert_int_equal(tls_cert_ensure_self_signed(tls_dir, NULL, &info, error, sizeof(error)),
			 0);
	assert_true(info.is_new);
	assert_string_not_equal(info.fingerprint_sha256, f->cert.fingerprint_sha256);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_certificate_reused_and_private, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_broken_certificates_are_named, setup,
						teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
