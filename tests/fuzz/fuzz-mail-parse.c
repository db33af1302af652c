/*
 * fuzz-mail-parse.c - libFuzzer target: the mail parser (GMime MIME walk, encoded names,
 * charset conversion, content sniffing) and the sender checks (noise headers,
 * Authentication-Results) on arbitrary bytes, with a policy that exercises every branch.
 */
#include "mail/mail-in-private.h"

#include "lib/str.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	mail_policy_t policy;
	mail_policy_defaults(&policy);
	/* The first byte picks the body policy and the size cap, so both paths are reached. */
	if (size > 0) {
		policy.body_policy = (mail_body_policy_t)(data[0] % 3);
		if (data[0] & 0x80)
			policy.max_message_bytes = size / 2 + 1;
	}
	(void)str_copy(policy.auth_serv_id, sizeof(policy.auth_serv_id), "mx.example.com");
	policy.require = size > 1 ? (mail_require_t)(data[1] % 4) : MAIL_REQUIRE_DMARC;
	mail_policy_add_own(&policy, "print@example.com");
	pp_mail_message_t *msg = NULL;
	char error[256];
	(void)mail_parse_with_policy(&policy, 1, "print@example.com", data, size, &msg, error,
	                             sizeof(error));
	mail_message_free(&msg);
	return 0;
}
